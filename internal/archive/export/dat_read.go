package export

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Limits of ParseDAT: a load file comes from outside (an auditor's copy, a
// review platform's re-export) and is read whole.
const (
	MaxDATBytes  = 1 << 30
	MaxDATFields = 1000
)

// ErrMalformedDAT wraps every reason ParseDAT refuses a load file.
var ErrMalformedDAT = errors.New("export: malformed DAT load file")

// DAT is a parsed Concordance load file.
type DAT struct {
	Header []string
	Rows   [][]string
}

// Index is the position of a field in the header, or -1.
func (d *DAT) Index(field string) int {
	for i, h := range d.Header {
		if h == field {
			return i
		}
	}
	return -1
}

// ParseDAT reads a load file in the form Export writes: UTF-8 with an
// optional byte-order mark; rows ending in CRLF or LF; every value enclosed
// in þ and separated by DC4 (0x14); ® for a line break and þþ for a þ inside
// a value. It is strict, because the verifier reads it: an unqualified
// value, a raw line break or control character inside a value, a row whose
// field count differs from the header's, or an empty or repeated header
// field is refused with its row and field.
func ParseDAT(r io.Reader) (*DAT, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxDATBytes+1))
	if err != nil {
		return nil, fmt.Errorf("export: reading the DAT file: %w", err)
	}
	if len(b) > MaxDATBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrMalformedDAT, MaxDATBytes)
	}
	b = bytes.TrimPrefix(b, []byte(utf8BOM))
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("%w: not valid UTF-8", ErrMalformedDAT)
	}
	p := datParser{s: string(b), row: 1}
	d := &DAT{}
	for p.i < len(p.s) {
		row, err := p.parseRow()
		if err != nil {
			return nil, fmt.Errorf("%w: row %d: %w", ErrMalformedDAT, p.row, err)
		}
		if d.Header == nil {
			if err := checkDATHeader(row); err != nil {
				return nil, fmt.Errorf("%w: header: %w", ErrMalformedDAT, err)
			}
			d.Header = row
		} else {
			if len(row) != len(d.Header) {
				return nil, fmt.Errorf("%w: row %d has %d fields, the header %d", ErrMalformedDAT, p.row, len(row), len(d.Header))
			}
			d.Rows = append(d.Rows, row)
		}
		p.row++
	}
	if d.Header == nil {
		return nil, fmt.Errorf("%w: no header row", ErrMalformedDAT)
	}
	return d, nil
}

func checkDATHeader(h []string) error {
	seen := make(map[string]bool, len(h))
	for i, f := range h {
		if f == "" {
			return fmt.Errorf("field %d is empty", i+1)
		}
		if seen[f] {
			return fmt.Errorf("field %q is repeated", truncate(f))
		}
		seen[f] = true
	}
	return nil
}

type datParser struct {
	s   string
	i   int
	row int
}

// parseRow reads one row and its line end.
func (p *datParser) parseRow() ([]string, error) {
	var fields []string
	for {
		if len(fields) == MaxDATFields {
			return nil, fmt.Errorf("more than %d fields", MaxDATFields)
		}
		v, err := p.parseValue()
		if err != nil {
			return nil, fmt.Errorf("field %d: %w", len(fields)+1, err)
		}
		fields = append(fields, v)
		switch {
		case p.i == len(p.s):
			return fields, nil
		case p.s[p.i] == datSeparator:
			p.i++
		case p.s[p.i] == '\n':
			p.i++
			return fields, nil
		case p.s[p.i] == '\r' && p.i+1 < len(p.s) && p.s[p.i+1] == '\n':
			p.i += 2
			return fields, nil
		default:
			return nil, fmt.Errorf("field %d: text after the closing þ", len(fields))
		}
	}
}

// parseValue reads one qualified value.
func (p *datParser) parseValue() (string, error) {
	r, n := utf8.DecodeRuneInString(p.s[p.i:])
	if r != datQualifier {
		return "", errors.New("does not start with þ")
	}
	p.i += n
	var b bytes.Buffer
	for p.i < len(p.s) {
		r, n := utf8.DecodeRuneInString(p.s[p.i:])
		p.i += n
		switch {
		case r == datQualifier:
			if next, m := utf8.DecodeRuneInString(p.s[p.i:]); next == datQualifier {
				b.WriteRune(datQualifier)
				p.i += m
				continue
			}
			return b.String(), nil
		case r == datNewline:
			b.WriteByte('\n')
		case isControl(r):
			return "", fmt.Errorf("control character %U inside the value (a line break must be written ®)", r)
		default:
			b.WriteRune(r)
		}
	}
	return "", errors.New("no closing þ")
}
