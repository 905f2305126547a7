package webhook

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// TestSignKnownVector pins the scheme to a value computed independently
// (Python's hmac module), so a change to the signed string is caught.
func TestSignKnownVector(t *testing.T) {
	ts, sig := Sign(testSecret, time.Unix(1767225600, 0), []byte(`{"id":"m1"}`))
	if ts != "1767225600" {
		t.Fatalf("timestamp header = %q", ts)
	}
	const want = "v1=4afa73871289b5b0cc2897697a488e3b4dd33b40bd37f7c500df978796412a9e"
	if sig != want {
		t.Fatalf("signature header = %q, want %q", sig, want)
	}
}

func TestParseSignatureHeader(t *testing.T) {
	_, good := Sign(testSecret, time.Unix(1, 0), []byte("x"))
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"valid", good, nil},
		{"uppercase hex", "v1=" + strings.ToUpper(good[3:]), nil},
		{"empty", "", errMissingSignature},
		{"no prefix", good[3:], errBadSignature},
		{"other version", "v2=" + good[3:], errBadSignature},
		{"short", good[:len(good)-2], errBadSignature},
		{"long", good + "00", errBadSignature},
		{"not hex", "v1=" + strings.Repeat("zz", 32), errBadSignature},
		{"space", " " + good, errBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseSignatureHeader(tc.in)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("parseSignatureHeader(%q) error = %v, want %v", tc.in, err, tc.want)
			}
		})
	}
}

func TestParseTimestampHeader(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr error
	}{
		{"1767225600", 1767225600, nil},
		{"0", 0, nil},
		{"", 0, errMissingSignature},
		{"-5", 0, errBadSignature},
		{"+5", 0, errBadSignature},
		{" 5", 0, errBadSignature},
		{"1.5", 0, errBadSignature},
		{"1767225600000", 0, errBadSignature},
	}
	for _, tc := range tests {
		got, err := parseTimestampHeader(tc.in)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("parseTimestampHeader(%q) error = %v, want %v", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got.Unix() != tc.want {
			t.Errorf("parseTimestampHeader(%q) = %v, %v; want %d", tc.in, got.Unix(), err, tc.want)
		}
	}
}

// FuzzParseSignatureHeader: never panics; anything accepted is exactly
// "v1=" and 64 hex digits, and decodes to bytes that re-encode to it.
func FuzzParseSignatureHeader(f *testing.F) {
	_, good := Sign(testSecret, time.Unix(1, 0), []byte("x"))
	f.Add(good)
	f.Add("v1=")
	f.Add("v1=" + strings.Repeat("A", 64))
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		sig, err := parseSignatureHeader(h)
		if err != nil {
			if !errors.Is(err, errBadSignature) && !errors.Is(err, errMissingSignature) {
				t.Fatalf("unexpected error class %v", err)
			}
			return
		}
		if len(h) != 67 || !strings.HasPrefix(h, "v1=") {
			t.Fatalf("accepted %q", h)
		}
		if got := strings.ToLower(h[3:]); got != strings.ToLower(encodeHex(sig[:])) {
			t.Fatalf("decoded signature does not re-encode to the header")
		}
	})
}

// FuzzParseTimestampHeader: accepted values are plain digit strings that
// format back to themselves (modulo leading zeros).
func FuzzParseTimestampHeader(f *testing.F) {
	f.Add("1767225600")
	f.Add("-1")
	f.Add("00001")
	f.Fuzz(func(t *testing.T, h string) {
		ts, err := parseTimestampHeader(h)
		if err != nil {
			return
		}
		if ts.Unix() < 0 {
			t.Fatalf("negative time accepted from %q", h)
		}
		trimmed := strings.TrimLeft(h, "0")
		if trimmed == "" {
			trimmed = "0"
		}
		if got, _ := Sign(testSecret, ts, nil); got != trimmed {
			t.Fatalf("timestamp %q parsed to %s", h, got)
		}
	})
}

func encodeHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
