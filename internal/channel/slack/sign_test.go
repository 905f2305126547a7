package slack

import (
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// TestSignOfficialVector pins the scheme to Slack's documented example.
func TestSignOfficialVector(t *testing.T) {
	ts, sig := Sign([]byte(officialSecret), time.Unix(officialTimestamp, 0), []byte(officialBody))
	if ts != "1531420618" || sig != officialSignature {
		t.Fatalf("Sign = %s %s, want 1531420618 %s", ts, sig, officialSignature)
	}
	got, _, err := verifySignature([]byte(officialSecret), "1531420618", officialSignature, []byte(officialBody))
	if err != nil || got.Unix() != officialTimestamp {
		t.Fatalf("official vector: %v %v", got, err)
	}
}

func TestVerifySignatureRejects(t *testing.T) {
	secret, body := []byte(officialSecret), []byte(officialBody)
	tests := []struct {
		name, ts, sig string
		secret, body  []byte
		want          error
	}{
		{"no signature", "1531420618", "", secret, body, errMissingSignature},
		{"no timestamp", "", officialSignature, secret, body, errMissingSignature},
		{"wrong version", "1531420618", "v1=" + officialSignature[3:], secret, body, errBadSignature},
		{"short", "1531420618", officialSignature[:60], secret, body, errBadSignature},
		{"not hex", "1531420618", "v0=" + strings.Repeat("g", 64), secret, body, errBadSignature},
		{"timestamp moved", "1531420619", officialSignature, secret, body, errBadSignature},
		{"timestamp not digits", "+1531420618", officialSignature, secret, body, errBadSignature},
		{"body changed", "1531420618", officialSignature, secret, append(append([]byte(nil), body...), '&'), errBadSignature},
		{"wrong secret", "1531420618", officialSignature, []byte("8f742231b10e8888abcd99yyyzzz85a6"), body, errBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := verifySignature(tc.secret, tc.ts, tc.sig, tc.body); !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSignedRequest(t *testing.T) {
	req, err := SignedRequest("http://connector:8080"+Path, []byte(officialSecret), []byte(officialBody), time.Unix(officialTimestamp, 0))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(req.Body)
	if string(got) != officialBody || req.Header.Get(HeaderTimestamp) != "1531420618" || req.Header.Get(HeaderSignature) != officialSignature {
		t.Fatalf("request headers %v", req.Header)
	}
	if _, err := SignedRequest("://bad", nil, nil, time.Now()); err == nil {
		t.Fatal("a bad URL must fail")
	}
}

func TestParseTS(t *testing.T) {
	for in, want := range map[string]time.Time{
		"1531420618.000200": time.Unix(1531420618, 200_000),
		"1531420618.5":      time.Unix(1531420618, 500_000_000),
		"1531420618":        time.Unix(1531420618, 0),
	} {
		if got, err := parseTS(in); err != nil || !got.Equal(want) {
			t.Errorf("parseTS(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", ".5", "1531420618.1234567", "1531420618.-1", "1531420618.+1", "1531420618.x", "-1.0"} {
		if _, err := parseTS(bad); err == nil {
			t.Errorf("parseTS(%q) accepted", bad)
		}
	}
}

// FuzzVerifySignature: never panics; nothing but the true signature of the
// timestamp and body verifies.
func FuzzVerifySignature(f *testing.F) {
	f.Add("1531420618", officialSignature, []byte(officialBody))
	f.Add("0", "v0=", []byte{})
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		if _, _, err := verifySignature([]byte(officialSecret), ts, sig, body); err == nil {
			mac := computeMAC([]byte(officialSecret), ts, body)
			if !strings.EqualFold(sig[3:], hex.EncodeToString(mac[:])) {
				t.Fatalf("forged signature %q verified", sig)
			}
		}
	})
}
