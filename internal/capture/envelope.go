package capture

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Limits on the findings an envelope carries.
const (
	MaxFindingsPerRecord = 1000
	maxFindingField      = 256
	maxEvidenceBytes     = 1024
	// MaxEncodedEnvelope bounds one NDJSON line of a batch: a record at its
	// largest plus its findings.
	MaxEncodedEnvelope = MaxEncodedRecord + 1<<20
)

// Validate checks an envelope: a valid record and findings that point inside
// its text.
func (e *Envelope) Validate() error {
	if e.Record == nil {
		return invalid("envelope has no record")
	}
	if err := e.Record.Validate(); err != nil {
		return err
	}
	if len(e.Findings) > MaxFindingsPerRecord {
		return invalid("record %s has %d findings, more than %d", truncate(e.Record.ID), len(e.Findings), MaxFindingsPerRecord)
	}
	for i := range e.Findings {
		if err := e.Findings[i].validate(len(e.Record.Text)); err != nil {
			return fmt.Errorf("finding %d of record %s: %w", i, truncate(e.Record.ID), err)
		}
	}
	return nil
}

func (f *Finding) validate(textLen int) error {
	switch {
	case f.Policy == "" || f.Rule == "" || f.Severity == "":
		return invalid("policy, rule and severity are required")
	case len(f.Policy) > maxFindingField || len(f.Rule) > maxFindingField || len(f.Category) > maxFindingField ||
		len(f.Severity) > maxFindingField || len(f.Detector) > maxFindingField:
		return invalid("a name is longer than %d bytes", maxFindingField)
	case len(f.Evidence) > maxEvidenceBytes:
		return invalid("evidence is longer than %d bytes", maxEvidenceBytes)
	case f.Confidence < 0 || f.Confidence > 100:
		return invalid("confidence %d is outside 0..100", f.Confidence)
	case f.Start < 0 || f.End < f.Start || f.End > textLen:
		return invalid("span %d..%d is outside the text (%d bytes)", f.Start, f.End, textLen)
	}
	return nil
}

// DecodeEnvelopes reads a connector batch: one Envelope a line, blank lines
// skipped, unknown fields refused. It stops at the first bad line, naming it,
// and refuses a batch of more than maxEnvelopes, so a caller that collects
// before writing takes a batch whole or not at all.
func DecodeEnvelopes(r io.Reader, maxEnvelopes int) ([]Envelope, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxEncodedEnvelope)
	var envs []Envelope
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if len(envs) == maxEnvelopes {
			return nil, fmt.Errorf("%w: more than %d envelopes in one batch", ErrTooMany, maxEnvelopes)
		}
		var env Envelope
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&env); err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrInvalid, line, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("%w: line %d: more than one JSON value", ErrInvalid, line)
		}
		if err := env.Validate(); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		envs = append(envs, env)
	}
	if err := sc.Err(); err != nil {
		if err == bufio.ErrTooLong {
			return nil, fmt.Errorf("%w: line %d is longer than %d bytes", ErrInvalid, line+1, MaxEncodedEnvelope)
		}
		return nil, fmt.Errorf("while reading the batch: %w", err)
	}
	return envs, nil
}

// ErrTooMany marks a batch with more envelopes than allowed.
var ErrTooMany = errors.New("batch too large")
