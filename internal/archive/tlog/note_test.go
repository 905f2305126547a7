package tlog

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

// The example key pair and note documented by the Go reference
// implementation, golang.org/x/mod/sumdb/note (package documentation and
// note_test.go). Ed25519 signing is deterministic (RFC 8032), so our Sign
// must reproduce the published note byte for byte; if it does, every
// Go-ecosystem verifier and witness accepts our checkpoints.
const (
	peterVKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
	peterSKey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
	peterText = "If you think cryptography is the answer to your problem,\n" +
		"then you don't know what your problem is.\n"
	peterNote = peterText + "\n" +
		"— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)

func mustSigner(t testing.TB, name string) *Signer {
	t.Helper()
	s, err := GenerateSigner(name, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestReferenceNoteVector(t *testing.T) {
	s, err := ParseSignerKey(peterSKey)
	if err != nil {
		t.Fatalf("ParseSignerKey: %v", err)
	}
	v, err := ParseVerifierKey(peterVKey)
	if err != nil {
		t.Fatalf("ParseVerifierKey: %v", err)
	}
	if s.KeyID() != 0xc74f20a3 || v.KeyID() != 0xc74f20a3 {
		t.Errorf("key IDs %08x / %08x, want c74f20a3", s.KeyID(), v.KeyID())
	}
	if got := s.Verifier().String(); got != peterVKey {
		t.Errorf("verifier key from the private key = %q, want %q", got, peterVKey)
	}
	if got := v.String(); got != peterVKey {
		t.Errorf("verifier key round trip = %q, want %q", got, peterVKey)
	}
	if got := s.PrivateKeyString(); got != peterSKey {
		t.Errorf("private key round trip = %q, want %q", got, peterSKey)
	}
	if strings.Contains(s.String(), "AYEK") {
		t.Errorf("Signer.String leaks the private key: %q", s.String())
	}

	signed, err := Sign([]byte(peterText), s)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if string(signed) != peterNote {
		t.Errorf("Sign produced\n%s\nwant the published note\n%s", signed, peterNote)
	}
	n, err := Open([]byte(peterNote), []*Verifier{v})
	if err != nil {
		t.Fatalf("Open of the published note: %v", err)
	}
	if string(n.Text) != peterText || len(n.Sigs) != 1 || !n.Sigs[0].Verified || n.Sigs[0].Name != "PeterNeumann" {
		t.Errorf("Open returned %+v", n)
	}
	if got := string(n.Marshal()); got != peterNote {
		t.Errorf("Marshal after Open = %q, want the input", got)
	}
}

func TestParseKeysRejectsManglings(t *testing.T) {
	// Every proper substring and every single-byte change of a valid key
	// must be refused: a typo in a key handed to an auditor should fail
	// loudly rather than produce a different key.
	b := []byte(peterVKey)
	for i := 0; i <= len(b); i++ {
		for j := i + 1; j <= len(b); j++ {
			if i == 0 && j == len(b) {
				continue
			}
			if _, err := ParseVerifierKey(string(b[i:j])); err == nil {
				t.Fatalf("ParseVerifierKey(%q) succeeded", b[i:j])
			}
		}
	}
	for i := range b {
		b[i]++
		if _, err := ParseVerifierKey(string(b)); err == nil {
			t.Fatalf("ParseVerifierKey(%q) succeeded", b)
		}
		b[i]--
	}
	for _, bad := range []string{
		"PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", // uppercase ID
		"PeterNeumann+c74f20a3+AhpTQkc5j5tR7KDCl5YVBN9yrDWlXTfvpkl34NFsg2Zx", // wrong algorithm byte
		"Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
	} {
		if _, err := ParseVerifierKey(bad); !errors.Is(err, ErrMalformedKey) {
			t.Errorf("ParseVerifierKey(%q) = %v, want ErrMalformedKey", bad, err)
		}
	}
	if _, err := ParseSignerKey(peterVKey); err == nil {
		t.Error("ParseSignerKey accepted a verifier key")
	}
	if _, err := ParseSignerKey(strings.Replace(peterSKey, "c74f20a3", "c74f20a4", 1)); err == nil {
		t.Error("ParseSignerKey accepted a wrong key ID")
	}
}

func TestKeyNames(t *testing.T) {
	for _, name := range []string{"", "a b", "a+b", "a\tb", "a\u00a0b", "a\x01b", "\xff"} {
		if _, err := GenerateSigner(name, rand.Reader); !errors.Is(err, ErrMalformedKey) {
			t.Errorf("GenerateSigner(%q) = %v, want ErrMalformedKey", name, err)
		}
	}
	for _, name := range []string{"archive.example.com/tenant-a", "日志", "x"} {
		if _, err := GenerateSigner(name, rand.Reader); err != nil {
			t.Errorf("GenerateSigner(%q): %v", name, err)
		}
	}
}

func TestSignOpenRoundTrip(t *testing.T) {
	log := mustSigner(t, "archive.example.com/tenant-a")
	witness := mustSigner(t, "witness.example.org")
	text := []byte("archive.example.com/tenant-a\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")

	msg, err := Sign(text, log, witness)
	if err != nil {
		t.Fatal(err)
	}
	// Knowing only the log key: the witness line is kept, unverified.
	n, err := Open(msg, []*Verifier{log.Verifier()})
	if err != nil {
		t.Fatalf("Open with the log key: %v", err)
	}
	if !bytes.Equal(n.Text, text) || len(n.Sigs) != 2 || !n.Sigs[0].Verified || n.Sigs[1].Verified {
		t.Errorf("Open returned %+v", n)
	}
	if !bytes.Equal(n.Marshal(), msg) {
		t.Error("Marshal does not reproduce the note")
	}
	// Knowing both: both verify.
	n, err = Open(msg, []*Verifier{witness.Verifier(), log.Verifier()})
	if err != nil || !n.Sigs[0].Verified || !n.Sigs[1].Verified {
		t.Fatalf("Open with both keys: %+v, %v", n, err)
	}
	if _, err := Sign(text, log, log); err == nil {
		t.Error("Sign with the same key twice succeeded")
	}
}

func TestOpenRejects(t *testing.T) {
	log := mustSigner(t, "log.example")
	text := []byte("hello\n\nworld\n")
	msg, err := Sign(text, log)
	if err != nil {
		t.Fatal(err)
	}
	good := []*Verifier{log.Verifier()}
	if n, err := Open(msg, good); err != nil || !bytes.Equal(n.Text, text) {
		t.Fatalf("text with a blank line: %v", err)
	}

	other := mustSigner(t, "other.example")
	// Same key bytes, different name: the key ID differs, so the line is
	// from an unknown key.
	renamed, err := NewVerifier("log.example2", log.Verifier().pub)
	if err != nil {
		t.Fatal(err)
	}
	// Different key bytes, same name and forged ID: must be a hard failure.
	forged := &Verifier{name: log.name, id: log.id, pub: other.Verifier().pub}

	tampered := bytes.Replace(msg, []byte("world"), []byte("World"), 1)
	line := msg[len(text)+1:]
	cases := []struct {
		name      string
		msg       []byte
		verifiers []*Verifier
		want      error
	}{
		{"wrong key", msg, []*Verifier{other.Verifier()}, ErrUnverifiedNote},
		{"wrong name", msg, []*Verifier{renamed}, ErrUnverifiedNote},
		{"no verifiers", msg, nil, ErrUnverifiedNote},
		{"tampered text", tampered, good, ErrInvalidSignature},
		{"forged key behind a known ID", msg, []*Verifier{forged}, ErrInvalidSignature},
		{"no signatures", append(append([]byte(nil), text...), '\n'), good, ErrMalformedNote},
		{"no blank line", []byte("hello\n— log.example AAAAAA==\n"), good, ErrMalformedNote},
		{"missing final newline", msg[:len(msg)-1], good, ErrMalformedNote},
		{"bad prefix", append(bytes.Clone(msg), []byte("- x AAAAAAAA\n")...), good, ErrMalformedNote},
		{"bad base64", append(bytes.Clone(msg), []byte("— x AAAA!AAA\n")...), good, ErrMalformedNote},
		{"non-canonical base64", append(bytes.Clone(msg), []byte("— x AAAAAAB=\n")...), good, ErrMalformedNote},
		{"too short", append(bytes.Clone(msg), []byte("— x AAAAAA==\n")...), good, ErrMalformedNote},
		{"space in name", append(bytes.Clone(msg), []byte("— x y AAAAAAAA\n")...), good, ErrMalformedNote},
		{"empty name", append(bytes.Clone(msg), []byte("—  AAAAAAAA\n")...), good, ErrMalformedNote},
		{"duplicate known signature", append(bytes.Clone(msg), line...), good, ErrMalformedNote},
		{"control character", append([]byte("a\x01\n\n"), line...), good, ErrMalformedNote},
		{"invalid UTF-8", append([]byte("a\xff\n\n"), line...), good, ErrMalformedNote},
	}
	for _, tc := range cases {
		_, err := Open(tc.msg, tc.verifiers)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Open = %v, want %v", tc.name, err, tc.want)
		}
	}

	// Unknown signature lines are ignored, up to the signature limit.
	many := bytes.Clone(msg)
	for range maxSignatures - 1 {
		many = append(many, []byte("— unknown.example AAAAAAAA\n")...)
	}
	if _, err := Open(many, good); err != nil {
		t.Errorf("note with %d signatures: %v", maxSignatures, err)
	}
	many = append(many, []byte("— unknown.example AAAAAAAA\n")...)
	if _, err := Open(many, good); !errors.Is(err, ErrMalformedNote) {
		t.Errorf("note with %d signatures: %v, want ErrMalformedNote", maxSignatures+1, err)
	}

	// Two different keys behind one name and ID cannot both be trusted.
	if _, err := Open(msg, []*Verifier{log.Verifier(), forged}); err == nil {
		t.Error("Open with ambiguous verifiers succeeded")
	}
}

func TestSignRejectsBadText(t *testing.T) {
	s := mustSigner(t, "log.example")
	for _, text := range []string{"", "no newline", "a\x00\n", "a\r\n", "\xff\n"} {
		if _, err := Sign([]byte(text), s); err == nil {
			t.Errorf("Sign(%q) succeeded", text)
		}
	}
	if _, err := Sign([]byte("ok\n")); err == nil {
		t.Error("Sign without signers succeeded")
	}
}

func TestNewSignerAndVerifierValidateKeys(t *testing.T) {
	if _, err := NewVerifier("x", make([]byte, 31)); !errors.Is(err, ErrMalformedKey) {
		t.Errorf("NewVerifier with a short key: %v", err)
	}
	if _, err := NewSigner("x", make([]byte, 10)); !errors.Is(err, ErrMalformedKey) {
		t.Errorf("NewSigner with a short key: %v", err)
	}
	// KeyID is name-sensitive: the same key under two names has two IDs.
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	pub := priv.Public().(ed25519.PublicKey)
	if KeyID("a", pub) == KeyID("b", pub) {
		t.Error("KeyID ignores the name")
	}
}

// FuzzOpenNote checks that Open never panics on hostile input and that an
// opened note re-encodes to exactly the bytes it came from.
func FuzzOpenNote(f *testing.F) {
	v, err := ParseVerifierKey(peterVKey)
	if err != nil {
		f.Fatal(err)
	}
	verifiers := []*Verifier{v}
	f.Add([]byte(peterNote))
	f.Add([]byte(peterNote + "— witness.example AAAAAAAA\n"))
	f.Add([]byte(peterText + "\n— PeterNeumann AAAAAAAA\n"))
	f.Add([]byte("a\n\n\n— x AAAAAAB=\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		n, err := Open(msg, verifiers)
		if err != nil {
			return
		}
		if len(n.Text) == 0 || n.Text[len(n.Text)-1] != '\n' {
			t.Fatalf("opened note text %q does not end in a newline", n.Text)
		}
		if out := n.Marshal(); string(out) != string(msg) {
			t.Fatalf("round trip changed the note:\n in %q\nout %q", msg, out)
		}
		if _, err := Open(n.Marshal(), verifiers); err != nil {
			t.Fatalf("re-opening a marshalled note: %v", err)
		}
	})
}
