package line

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// TestSignVector pins the scheme to a vector cross-checked with openssl.
func TestSignVector(t *testing.T) {
	body := []byte(`{"destination":"Uxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","events":[]}`)
	const want = "kfzlshq8uxQkdeQA58XqdKkA0pP+JtWDv5YESarn4dA="
	if got := Sign([]byte(testSecret), body); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if err := verifySignature([]byte(testSecret), want, body); err != nil {
		t.Fatal(err)
	}
	req, err := SignedRequest("http://connector:8080"+Path, []byte(testSecret), body)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(req.Body)
	if string(got) != string(body) || req.Header.Get(HeaderSignature) != want {
		t.Fatalf("request %q %v", got, req.Header)
	}
	if _, err := SignedRequest("://bad", nil, body); err == nil {
		t.Fatal("a bad URL must fail")
	}
}

func TestVerifySignatureRejects(t *testing.T) {
	body := []byte(`{"destination":"Uxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","events":[]}`)
	good := "kfzlshq8uxQkdeQA58XqdKkA0pP+JtWDv5YESarn4dA="
	tests := []struct {
		name, header string
		secret, body []byte
		want         error
	}{
		{"missing", "", []byte(testSecret), body, errMissingSignature},
		{"url-safe alphabet", strings.NewReplacer("+", "-", "/", "_").Replace(good), []byte(testSecret), body, errBadSignature},
		{"unpadded", strings.TrimRight(good, "="), []byte(testSecret), body, errBadSignature},
		{"hex instead", strings.Repeat("ab", 32), []byte(testSecret), body, errBadSignature},
		{"truncated", good[:20], []byte(testSecret), body, errBadSignature},
		{"wrong secret", good, []byte("otherchannelsecret"), body, errBadSignature},
		{"body changed", good, []byte(testSecret), append(append([]byte(nil), body...), '\n'), errBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := verifySignature(tc.secret, tc.header, tc.body); !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
}

// FuzzVerifySignature: never panics; nothing but the true signature verifies.
func FuzzVerifySignature(f *testing.F) {
	f.Add("kfzlshq8uxQkdeQA58XqdKkA0pP+JtWDv5YESarn4dA=", []byte(`{"destination":"Uxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","events":[]}`))
	f.Add("", []byte{})
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		if verifySignature([]byte(testSecret), header, body) == nil && header != Sign([]byte(testSecret), body) {
			t.Fatalf("forged header %q verified", header)
		}
	})
}
