package tlog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrMalformedCheckpoint is wrapped by every checkpoint parse or format
// failure.
var ErrMalformedCheckpoint = errors.New("tlog: malformed checkpoint")

// Checkpoint is the body of a C2SP tlog-checkpoint: the log's origin, its
// size and its RFC 6962 root, plus optional extension lines. It is what the
// log signs and what an auditor keeps to later demand consistency proofs.
type Checkpoint struct {
	// Origin identifies the log, e.g. "archive.example.com/tenant-a". It is
	// the first line so that a signature over one log's checkpoint can never
	// be replayed as another log's.
	Origin string
	// Size is the number of leaves in the tree.
	Size uint64
	// Root is the Merkle Tree Hash of those leaves.
	Root Hash
	// Extensions are additional non-empty lines after the root. The
	// specification does not recommend them; they are kept so that a
	// checkpoint from another log round-trips unchanged.
	Extensions []string
}

// strictBase64 rejects non-canonical encodings (non-zero padding bits), so
// each root has exactly one textual form and parse∘format is the identity.
var strictBase64 = base64.StdEncoding.Strict()

// ParseCheckpoint parses a checkpoint body strictly: a non-empty origin, a
// decimal size without sign or leading zeros, a base64 root of exactly 32
// bytes, non-empty extension lines, and a final newline. Strictness matters
// because two different byte strings meaning the same checkpoint would let a
// log present "different" checkpoints that a witness compares byte-wise.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	if len(text) == 0 || text[len(text)-1] != '\n' {
		return Checkpoint{}, fmt.Errorf("%w: must end with a newline", ErrMalformedCheckpoint)
	}
	if !utf8.Valid(text) {
		return Checkpoint{}, fmt.Errorf("%w: not valid UTF-8", ErrMalformedCheckpoint)
	}
	lines := strings.Split(string(text[:len(text)-1]), "\n")
	if len(lines) < 3 {
		return Checkpoint{}, fmt.Errorf("%w: %d lines, need origin, size and root", ErrMalformedCheckpoint, len(lines))
	}
	for i, l := range lines {
		if err := checkLine(l); err != nil {
			return Checkpoint{}, fmt.Errorf("%w: line %d: %w", ErrMalformedCheckpoint, i+1, err)
		}
	}
	size, err := parseSize(lines[1])
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: size line %q: %w", ErrMalformedCheckpoint, lines[1], err)
	}
	raw, err := strictBase64.DecodeString(lines[2])
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: root line %q: %w", ErrMalformedCheckpoint, lines[2], err)
	}
	if len(raw) != HashSize {
		return Checkpoint{}, fmt.Errorf("%w: root is %d bytes, want %d", ErrMalformedCheckpoint, len(raw), HashSize)
	}
	c := Checkpoint{Origin: lines[0], Size: size, Root: Hash(raw)}
	if len(lines) > 3 {
		c.Extensions = lines[3:]
	}
	return c, nil
}

// checkLine enforces what every checkpoint line must satisfy: non-empty (an
// empty line would end the signed note's text early) and free of control
// characters (which signed notes forbid).
func checkLine(l string) error {
	if l == "" {
		return errors.New("empty line")
	}
	for _, r := range l {
		if r < 0x20 {
			return fmt.Errorf("control character %U", r)
		}
	}
	return nil
}

// parseSize accepts only canonical decimal: "0" or a number without leading
// zeros, sign or spaces, that fits in 64 bits.
func parseSize(s string) (uint64, error) {
	if s == "" {
		return 0, errors.New("empty")
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, errors.New("not a decimal number")
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, errors.New("leading zero")
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("out of range: %w", err)
	}
	return n, nil
}

// Format returns the checkpoint body, ready to be signed as a note. It
// refuses anything ParseCheckpoint would reject, so the log can never sign
// a checkpoint that verifiers cannot parse.
func (c Checkpoint) Format() ([]byte, error) {
	if !utf8.ValidString(c.Origin) {
		return nil, fmt.Errorf("%w: origin is not valid UTF-8", ErrMalformedCheckpoint)
	}
	if err := checkLine(c.Origin); err != nil {
		return nil, fmt.Errorf("%w: origin: %w", ErrMalformedCheckpoint, err)
	}
	var b bytes.Buffer
	b.WriteString(c.Origin)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatUint(c.Size, 10))
	b.WriteByte('\n')
	b.WriteString(strictBase64.EncodeToString(c.Root[:]))
	b.WriteByte('\n')
	for i, e := range c.Extensions {
		if !utf8.ValidString(e) {
			return nil, fmt.Errorf("%w: extension %d is not valid UTF-8", ErrMalformedCheckpoint, i)
		}
		if err := checkLine(e); err != nil {
			return nil, fmt.Errorf("%w: extension %d: %w", ErrMalformedCheckpoint, i, err)
		}
		b.WriteString(e)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// SignCheckpoint formats c and signs it as a C2SP signed note. The signers'
// key names should equal c.Origin, as tlog-checkpoint recommends, so that a
// verifier can find the log's key from the origin alone.
func SignCheckpoint(c Checkpoint, signers ...*Signer) ([]byte, error) {
	body, err := c.Format()
	if err != nil {
		return nil, fmt.Errorf("tlog: signing checkpoint: %w", err)
	}
	msg, err := Sign(body, signers...)
	if err != nil {
		return nil, fmt.Errorf("tlog: signing checkpoint for %q at size %d: %w", c.Origin, c.Size, err)
	}
	return msg, nil
}

// OpenCheckpoint verifies a signed checkpoint note against the given
// verifiers, parses its body and checks that it is for the expected origin.
// The origin check is what stops a validly signed checkpoint of one tenant's
// log from being accepted as another's when both share a key.
func OpenCheckpoint(msg []byte, origin string, verifiers []*Verifier) (Checkpoint, *Note, error) {
	n, err := Open(msg, verifiers)
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("tlog: opening checkpoint for %q: %w", origin, err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("tlog: opening checkpoint for %q: %w", origin, err)
	}
	if c.Origin != origin {
		return Checkpoint{}, nil, fmt.Errorf("%w: origin %q, want %q", ErrMalformedCheckpoint, c.Origin, origin)
	}
	return c, n, nil
}
