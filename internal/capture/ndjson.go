package capture

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// DecodeNDJSON reads capture.v1 records, one JSON object a line, calling fn for
// each valid record. Blank lines are skipped. It stops at the first malformed or
// invalid line and reports its line number, so that a batch is taken whole or not
// at all by callers that buffer before writing.
func DecodeNDJSON(r io.Reader, fn func(*Record) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxEncodedRecord)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		rec := new(Record)
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(rec); err != nil {
			return fmt.Errorf("%w: line %d: %v", ErrInvalid, line, err)
		}
		if dec.More() {
			return fmt.Errorf("%w: line %d: more than one JSON value", ErrInvalid, line)
		}
		if err := rec.Validate(); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if err == bufio.ErrTooLong {
			return fmt.Errorf("%w: line %d is longer than %d bytes", ErrInvalid, line+1, MaxEncodedRecord)
		}
		return fmt.Errorf("reading NDJSON: %w", err)
	}
	return nil
}

// EncodeNDJSON writes records one a line.
func EncodeNDJSON(w io.Writer, recs []*Record) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("encoding record %s: %w", r.ID, err)
		}
	}
	return nil
}
