package tlog

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// algEd25519 is the signed-note signature type byte for Ed25519. It is
// hashed into the key ID and prefixed to encoded keys, so the same public
// key bytes under another algorithm can never collide with ours.
const algEd25519 = 0x01

// maxSignatures bounds the work Open does on a hostile note, matching the
// limit of the Go reference implementation.
const maxSignatures = 100

// sigPrefix starts every signature line: an em dash (U+2014) and a space.
const sigPrefix = "\u2014 "

// Errors wrapped by Open, NewVerifier and friends.
var (
	// ErrMalformedNote means the note does not follow the signed-note
	// syntax; nothing about its signatures can be said.
	ErrMalformedNote = errors.New("tlog: malformed signed note")
	// ErrInvalidSignature means a signature line names a key we know but
	// the signature does not verify: evidence of tampering, never ignored.
	ErrInvalidSignature = errors.New("tlog: invalid note signature")
	// ErrUnverifiedNote means the note is well formed but carries no
	// signature from any of the given verifiers.
	ErrUnverifiedNote = errors.New("tlog: note has no signature from a known key")
	// ErrMalformedKey means a key name or encoded key is not acceptable.
	ErrMalformedKey = errors.New("tlog: malformed note key")
)

// KeyID returns the signed-note key ID of an Ed25519 key: the first four
// bytes, big-endian, of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pubkey). Including the
// name binds a signature to one key name, so a key cannot be silently
// re-used under another identity.
func KeyID(name string, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', algEd25519})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// validName reports whether name is a legal key name: non-empty UTF-8 with
// no Unicode space (the signature line separator) and no '+' (the key
// string separator). Control characters are excluded too, as note text
// may not contain them.
func validName(name string) error {
	if name == "" {
		return errors.New("empty key name")
	}
	if !utf8.ValidString(name) {
		return errors.New("key name is not valid UTF-8")
	}
	for _, r := range name {
		if unicode.IsSpace(r) || r == '+' || r < 0x20 {
			return fmt.Errorf("key name %q contains %U", name, r)
		}
	}
	return nil
}

// Verifier checks Ed25519 signatures of one named key.
type Verifier struct {
	name string
	id   uint32
	pub  ed25519.PublicKey
}

// NewVerifier returns a verifier for the Ed25519 public key pub under name.
func NewVerifier(name string, pub ed25519.PublicKey) (*Verifier, error) {
	if err := validName(name); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedKey, err)
	}
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: Ed25519 public key is %d bytes, want %d", ErrMalformedKey, len(pub), ed25519.PublicKeySize)
	}
	pub = bytes.Clone(pub)
	return &Verifier{name: name, id: KeyID(name, pub), pub: pub}, nil
}

// ParseVerifierKey parses a verifier key string
// "<name>+<8 hex digits key ID>+<base64(0x01 ‖ pubkey)>", the form handed to
// auditors out of band. The key ID must match the name and key, which
// catches a key string that was edited or mixed up.
func ParseVerifierKey(vkey string) (*Verifier, error) {
	name, id, key, err := splitKey(vkey)
	if err != nil {
		return nil, fmt.Errorf("parsing verifier key: %w", err)
	}
	if len(key) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("parsing verifier key %q: %w: public key is %d bytes, want %d",
			name, ErrMalformedKey, len(key), ed25519.PublicKeySize)
	}
	v, err := NewVerifier(name, key)
	if err != nil {
		return nil, fmt.Errorf("parsing verifier key: %w", err)
	}
	if v.id != id {
		return nil, fmt.Errorf("parsing verifier key %q: %w: key ID %08x does not match the key (%08x)", name, ErrMalformedKey, id, v.id)
	}
	return v, nil
}

// splitKey parses "<name>+<hex id>+<base64(alg ‖ key)>" and checks the
// algorithm byte, returning the key material without it.
func splitKey(s string) (name string, id uint32, key []byte, err error) {
	name, rest, ok1 := strings.Cut(s, "+")
	idHex, b64, ok2 := strings.Cut(rest, "+")
	if !ok1 || !ok2 {
		return "", 0, nil, fmt.Errorf("%w: want <name>+<id>+<key>", ErrMalformedKey)
	}
	if err := validName(name); err != nil {
		return "", 0, nil, fmt.Errorf("%w: %w", ErrMalformedKey, err)
	}
	// Exactly eight lowercase hex digits: one spelling per ID.
	if len(idHex) != 8 || strings.ToLower(idHex) != idHex {
		return "", 0, nil, fmt.Errorf("%w: key ID %q is not 8 lowercase hex digits", ErrMalformedKey, idHex)
	}
	idBytes, err := hex.DecodeString(idHex)
	if err != nil {
		return "", 0, nil, fmt.Errorf("%w: key ID %q: %w", ErrMalformedKey, idHex, err)
	}
	raw, err := strictBase64.DecodeString(b64)
	if err != nil {
		return "", 0, nil, fmt.Errorf("%w: key material: %w", ErrMalformedKey, err)
	}
	if len(raw) == 0 || raw[0] != algEd25519 {
		return "", 0, nil, fmt.Errorf("%w: key is not an Ed25519 (type 0x01) key", ErrMalformedKey)
	}
	return name, binary.BigEndian.Uint32(idBytes), raw[1:], nil
}

// Name returns the key name.
func (v *Verifier) Name() string { return v.name }

// KeyID returns the key ID that signature lines carry.
func (v *Verifier) KeyID() uint32 { return v.id }

// String returns the verifier key string "<name>+<hex id>+<base64>".
func (v *Verifier) String() string {
	return encodeKey(v.name, v.id, v.pub)
}

func encodeKey(name string, id uint32, key []byte) string {
	return fmt.Sprintf("%s+%08x+%s", name, id, strictBase64.EncodeToString(append([]byte{algEd25519}, key...)))
}

// Verify reports whether sig is this key's Ed25519 signature of msg.
func (v *Verifier) Verify(msg, sig []byte) bool {
	return len(sig) == ed25519.SignatureSize && ed25519.Verify(v.pub, msg, sig)
}

// Signer signs notes with one named Ed25519 private key.
type Signer struct {
	name string
	id   uint32
	priv ed25519.PrivateKey
}

// NewSigner returns a signer for the Ed25519 private key priv under name.
func NewSigner(name string, priv ed25519.PrivateKey) (*Signer, error) {
	if err := validName(name); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedKey, err)
	}
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: Ed25519 private key is %d bytes, want %d", ErrMalformedKey, len(priv), ed25519.PrivateKeySize)
	}
	// Re-derive from the seed rather than trusting the embedded public
	// half, which a corrupted key file could get wrong.
	priv = ed25519.NewKeyFromSeed(priv.Seed())
	pub := priv.Public().(ed25519.PublicKey)
	return &Signer{name: name, id: KeyID(name, pub), priv: priv}, nil
}

// GenerateSigner creates a new Ed25519 key under name, reading randomness
// from rand (crypto/rand.Reader in production).
func GenerateSigner(name string, rand io.Reader) (*Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("tlog: generating Ed25519 key for %q: %w", name, err)
	}
	return NewSigner(name, priv)
}

// ParseSignerKey parses a private key string
// "PRIVATE+KEY+<name>+<hex id>+<base64(0x01 ‖ seed)>", the format of the
// Go reference implementation, so keys can be moved between tools.
func ParseSignerKey(skey string) (*Signer, error) {
	rest, ok := strings.CutPrefix(skey, "PRIVATE+KEY+")
	if !ok {
		return nil, fmt.Errorf("parsing signer key: %w: missing PRIVATE+KEY+ prefix", ErrMalformedKey)
	}
	name, id, seed, err := splitKey(rest)
	if err != nil {
		return nil, fmt.Errorf("parsing signer key: %w", err)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("parsing signer key %q: %w: seed is %d bytes, want %d", name, ErrMalformedKey, len(seed), ed25519.SeedSize)
	}
	s, err := NewSigner(name, ed25519.NewKeyFromSeed(seed))
	if err != nil {
		return nil, fmt.Errorf("parsing signer key: %w", err)
	}
	if s.id != id {
		return nil, fmt.Errorf("parsing signer key %q: %w: key ID %08x does not match the key (%08x)", name, ErrMalformedKey, id, s.id)
	}
	return s, nil
}

// Name returns the key name.
func (s *Signer) Name() string { return s.name }

// KeyID returns the key ID that this signer's signature lines carry.
func (s *Signer) KeyID() uint32 { return s.id }

// Verifier returns the verifier for this signer's public key.
func (s *Signer) Verifier() *Verifier {
	return &Verifier{name: s.name, id: s.id, pub: s.priv.Public().(ed25519.PublicKey)}
}

// PrivateKeyString returns the "PRIVATE+KEY+..." string for storage in a
// Secret. It is deliberately not String, so that logging a Signer with %v
// never prints the key.
func (s *Signer) PrivateKeyString() string {
	return "PRIVATE+KEY+" + encodeKey(s.name, s.id, s.priv.Seed())
}

// String identifies the signer without revealing the private key.
func (s *Signer) String() string { return fmt.Sprintf("%s+%08x (private)", s.name, s.id) }

// checkText enforces the signed-note text rules: non-empty valid UTF-8,
// ending in a newline, with no control characters except newline.
func checkText(text []byte) error {
	if len(text) == 0 || text[len(text)-1] != '\n' {
		return errors.New("text must be non-empty and end with a newline")
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRune(text[i:])
		if r == utf8.RuneError && size == 1 {
			return fmt.Errorf("invalid UTF-8 at byte %d", i)
		}
		if r < 0x20 && r != '\n' {
			return fmt.Errorf("control character %U at byte %d", r, i)
		}
		i += size
	}
	return nil
}

// Sign returns text as a signed note carrying one signature line per
// signer, in order.
func Sign(text []byte, signers ...*Signer) ([]byte, error) {
	if len(signers) == 0 {
		return nil, errors.New("tlog: signing note: no signers")
	}
	if err := checkText(text); err != nil {
		return nil, fmt.Errorf("tlog: signing note: %w", err)
	}
	var b bytes.Buffer
	b.Write(text)
	b.WriteByte('\n')
	seen := make(map[string]bool, len(signers))
	for _, s := range signers {
		// Open rejects two signatures from the same key, so never emit them.
		k := fmt.Sprintf("%s+%08x", s.name, s.id)
		if seen[k] {
			return nil, fmt.Errorf("tlog: signing note: key %s given twice", k)
		}
		seen[k] = true
		writeSigLine(&b, s.name, s.id, ed25519.Sign(s.priv, text))
	}
	return b.Bytes(), nil
}

// Signature is one signature line of a note.
type Signature struct {
	// Name is the key name on the line.
	Name string
	// KeyID is the key ID from the first four bytes of the encoded signature.
	KeyID uint32
	// Sig is the signature itself, without the key ID.
	Sig []byte
	// Verified reports whether the line was checked against a known key.
	// Lines from unknown keys are kept but not trusted: that is how
	// witnesses' cosignatures and rotated keys coexist in one note.
	Verified bool
}

// Note is an opened signed note.
type Note struct {
	// Text is the signed text, ending in a newline.
	Text []byte
	// Sigs are all signature lines in their original order.
	Sigs []Signature
}

// Marshal re-encodes the note; for a note returned by Open it reproduces
// the input byte for byte, so a note can be stored after opening it.
func (n *Note) Marshal() []byte {
	var b bytes.Buffer
	b.Write(n.Text)
	b.WriteByte('\n')
	for _, s := range n.Sigs {
		writeSigLine(&b, s.Name, s.KeyID, s.Sig)
	}
	return b.Bytes()
}

// writeSigLine writes "— <name> <base64(keyID ‖ sig)>\n".
func writeSigLine(b *bytes.Buffer, name string, id uint32, sig []byte) {
	b.WriteString(sigPrefix)
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(strictBase64.EncodeToString(append(binary.BigEndian.AppendUint32(nil, id), sig...)))
	b.WriteByte('\n')
}

// Open parses a signed note and verifies it against verifiers. It succeeds
// only if at least one signature comes from a known key, and it fails if
// any signature from a known key is invalid. Lines from unknown keys are
// returned unverified, as C2SP signed-note requires, so that adding a
// witness or rotating a key does not break existing verifiers. Malformed
// signature lines, more than 100 signatures, or two signatures from the same
// known key make the whole note malformed.
func Open(msg []byte, verifiers []*Verifier) (*Note, error) {
	type keyRef struct {
		name string
		id   uint32
	}
	known := make(map[keyRef]*Verifier, len(verifiers))
	for _, v := range verifiers {
		k := keyRef{v.name, v.id}
		if prev, ok := known[k]; ok && !bytes.Equal(prev.pub, v.pub) {
			// Two different keys behind one name and ID: whichever we
			// picked, the result would depend on verifier order.
			return nil, fmt.Errorf("tlog: opening note: ambiguous verifiers for %s+%08x", v.name, v.id)
		}
		known[k] = v
	}

	if err := checkText(msg); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedNote, err)
	}
	// The text ends at the last blank line: signature lines are never
	// empty, while the text may contain blank lines of its own.
	split := bytes.LastIndex(msg, []byte("\n\n"))
	if split < 0 {
		return nil, fmt.Errorf("%w: no blank line before the signatures", ErrMalformedNote)
	}
	// Clone so the returned note does not alias, and change with, the caller's buffer.
	n := &Note{Text: bytes.Clone(msg[:split+1])}
	sigs := msg[split+2:]
	if len(sigs) == 0 {
		return nil, fmt.Errorf("%w: no signature lines", ErrMalformedNote)
	}

	seen := make(map[keyRef]bool)
	verified := 0
	for len(sigs) > 0 {
		// checkText guaranteed a final newline, so this always finds one.
		i := bytes.IndexByte(sigs, '\n')
		line := string(sigs[:i])
		sigs = sigs[i+1:]
		if len(n.Sigs) == maxSignatures {
			return nil, fmt.Errorf("%w: more than %d signatures", ErrMalformedNote, maxSignatures)
		}

		rest, ok := strings.CutPrefix(line, sigPrefix)
		if !ok {
			return nil, fmt.Errorf("%w: signature line %q does not start with %q", ErrMalformedNote, line, sigPrefix)
		}
		name, b64, ok := strings.Cut(rest, " ")
		if !ok {
			return nil, fmt.Errorf("%w: signature line %q has no signature", ErrMalformedNote, line)
		}
		if err := validName(name); err != nil {
			return nil, fmt.Errorf("%w: signature line %q: %w", ErrMalformedNote, line, err)
		}
		raw, err := strictBase64.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("%w: signature line %q: %w", ErrMalformedNote, line, err)
		}
		if len(raw) < 5 {
			return nil, fmt.Errorf("%w: signature line %q: %d bytes, need a key ID and a signature", ErrMalformedNote, line, len(raw))
		}
		sig := Signature{Name: name, KeyID: binary.BigEndian.Uint32(raw), Sig: raw[4:]}

		k := keyRef{name, sig.KeyID}
		if v, ok := known[k]; ok {
			if seen[k] {
				return nil, fmt.Errorf("%w: two signatures from %s+%08x", ErrMalformedNote, name, sig.KeyID)
			}
			seen[k] = true
			if !v.Verify(n.Text, sig.Sig) {
				return nil, fmt.Errorf("%w: from %s+%08x", ErrInvalidSignature, name, sig.KeyID)
			}
			sig.Verified = true
			verified++
		}
		n.Sigs = append(n.Sigs, sig)
	}
	if verified == 0 {
		names := make([]string, 0, len(n.Sigs))
		for _, s := range n.Sigs {
			names = append(names, fmt.Sprintf("%s+%08x", s.Name, s.KeyID))
		}
		return nil, fmt.Errorf("%w: signed only by %s", ErrUnverifiedNote, strings.Join(names, ", "))
	}
	return n, nil
}
