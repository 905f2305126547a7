package whatsapp

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestSignOfficialVectors pins the scheme to GitHub's published
// X-Hub-Signature-256 example (the same construction Meta uses) and to a
// vector cross-checked with openssl.
func TestSignOfficialVectors(t *testing.T) {
	tests := []struct{ secret, body, want string }{
		{"It's a Secret to Everybody", "Hello, World!", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"},
		{"testappsecret", `{"object":"whatsapp_business_account","entry":[]}`, "sha256=ae9f8435eb526185100faadf37aa3022fce9a01689082c87618a688db675c96f"},
	}
	for _, tc := range tests {
		if got := Sign([]byte(tc.secret), []byte(tc.body)); got != tc.want {
			t.Errorf("Sign(%q, %q) = %s, want %s", tc.secret, tc.body, got, tc.want)
		}
		if err := verifySignature([]byte(tc.secret), tc.want, []byte(tc.body)); err != nil {
			t.Errorf("official vector does not verify: %v", err)
		}
	}
}

func TestVerifySignatureRejects(t *testing.T) {
	secret, body := []byte("testappsecret"), []byte(`{"object":"whatsapp_business_account","entry":[]}`)
	good := Sign(secret, body)
	tests := []struct {
		name   string
		secret []byte
		header string
		body   []byte
		want   error
	}{
		{"missing", secret, "", body, errMissingSignature},
		{"no prefix", secret, strings.TrimPrefix(good, "sha256="), body, errBadSignature},
		{"sha1 scheme", secret, "sha1=" + good[7:], body, errBadSignature},
		{"short", secret, good[:len(good)-2], body, errBadSignature},
		{"not hex", secret, "sha256=" + strings.Repeat("zz", 32), body, errBadSignature},
		{"wrong secret", []byte("other"), good, body, errBadSignature},
		{"body re-serialised", secret, good, []byte(`{"object": "whatsapp_business_account", "entry": []}`), errBadSignature},
		{"one byte flipped", secret, good[:len(good)-1] + "0", body, errBadSignature},
	}
	if strings.HasSuffix(good, "0") {
		t.Fatal("fixture: pick a body whose signature does not end in 0")
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := verifySignature(tc.secret, tc.header, tc.body); !errors.Is(err, tc.want) {
				t.Fatalf("verifySignature = %v, want %v", err, tc.want)
			}
		})
	}
	if err := verifySignature(secret, "sha256="+strings.ToUpper(good[7:]), body); err != nil {
		t.Fatalf("uppercase hex is the same signature: %v", err)
	}
}

func TestSignedRequest(t *testing.T) {
	body := []byte(`{"object":"whatsapp_business_account","entry":[]}`)
	req, err := SignedRequest("http://connector:8080"+Path, []byte("testappsecret"), body)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(req.Body)
	if req.Method != http.MethodPost || string(got) != string(body) ||
		req.Header.Get(HeaderSignature) != "sha256=ae9f8435eb526185100faadf37aa3022fce9a01689082c87618a688db675c96f" {
		t.Fatalf("request %s %q %v", req.Method, got, req.Header)
	}
	if _, err := SignedRequest("://bad", nil, body); err == nil {
		t.Fatal("a bad URL must fail")
	}
}

// FuzzVerifySignature: never panics, and nothing but the true signature of
// the body verifies.
func FuzzVerifySignature(f *testing.F) {
	secret := []byte("It's a Secret to Everybody")
	f.Add("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", []byte("Hello, World!"))
	f.Add("sha256=", []byte{})
	f.Add("sha256="+strings.Repeat("0", 64), []byte("x"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		if verifySignature(secret, header, body) == nil && !strings.EqualFold(header, Sign(secret, body)) {
			t.Fatalf("forged header %q verified", header)
		}
	})
}
