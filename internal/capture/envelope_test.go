package capture

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func encodeEnvelopes(t testing.TB, envs ...Envelope) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, e := range envs {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

func TestDecodeEnvelopes(t *testing.T) {
	rec := validRecord()
	good := Envelope{Record: rec, Findings: []Finding{{Policy: "p", Rule: "r", Severity: "High", Confidence: 90, Start: 0, End: len(rec.Text)}}}
	envs, err := DecodeEnvelopes(bytes.NewReader(encodeEnvelopes(t, good, Envelope{Record: rec})), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(envs) != 2 || len(envs[0].Findings) != 1 || envs[1].Record.Text != rec.Text {
		t.Fatalf("decoded %+v", envs)
	}

	outside := good
	outside.Findings = []Finding{{Policy: "p", Rule: "r", Severity: "High", Start: 0, End: len(rec.Text) + 1}}
	noRule := good
	noRule.Findings = []Finding{{Policy: "p", Severity: "High"}}
	for name, tc := range map[string]struct {
		body []byte
		max  int
		want error
		msg  string
	}{
		"no record":          {body: []byte(`{"findings":[]}`), max: 10, want: ErrInvalid, msg: "no record"},
		"unknown field":      {body: []byte(`{"record":{},"extra":1}`), max: 10, want: ErrInvalid, msg: "line 1"},
		"finding outside":    {body: encodeEnvelopes(t, outside), max: 10, want: ErrInvalid, msg: "outside the text"},
		"finding incomplete": {body: encodeEnvelopes(t, noRule), max: 10, want: ErrInvalid, msg: "required"},
		"two values a line":  {body: []byte(`{"record":null} {}`), max: 10, want: ErrInvalid, msg: "more than one"},
		"too many":           {body: encodeEnvelopes(t, good, good, good), max: 2, want: ErrTooMany, msg: "more than 2"},
		"bad second line":    {body: append(encodeEnvelopes(t, good), []byte("{\n")...), max: 10, want: ErrInvalid, msg: "line 2"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeEnvelopes(bytes.NewReader(tc.body), tc.max)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want %v mentioning %q", err, tc.want, tc.msg)
			}
		})
	}
}

func FuzzDecodeEnvelopes(f *testing.F) {
	rec := validRecord()
	f.Add(encodeEnvelopes(f, Envelope{Record: rec, Findings: []Finding{{Policy: "p", Rule: "r", Severity: "Low", End: 1}}}))
	f.Add([]byte(`{"record":{"schemaVersion":"capture.v1"}}`))
	f.Add([]byte("\n\n{}\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		envs, err := DecodeEnvelopes(bytes.NewReader(body), 100)
		if err != nil {
			if envs != nil {
				t.Fatal("a refused batch must return no envelopes")
			}
			return
		}
		for i := range envs {
			if err := envs[i].Validate(); err != nil {
				t.Fatalf("accepted an invalid envelope: %v", err)
			}
		}
	})
}
