package tlog

import (
	"errors"
	"strings"
	"testing"
)

// rootB64 is the base64 of the 8-leaf reference root (5dc9da79…).
const rootB64 = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="

func TestCheckpointRoundTrip(t *testing.T) {
	root := mustHash(t, ctRoots[8])
	for _, c := range []Checkpoint{
		{Origin: "archive.example.com/tenant-a", Size: 8, Root: root},
		{Origin: "o", Size: 0, Root: EmptyRoot()},
		{Origin: "o", Size: 18446744073709551615, Root: root, Extensions: []string{"ext one", "ext two"}},
	} {
		text, err := c.Format()
		if err != nil {
			t.Fatalf("Format(%+v): %v", c, err)
		}
		got, err := ParseCheckpoint(text)
		if err != nil {
			t.Fatalf("ParseCheckpoint(%q): %v", text, err)
		}
		if got.Origin != c.Origin || got.Size != c.Size || got.Root != c.Root ||
			strings.Join(got.Extensions, "|") != strings.Join(c.Extensions, "|") {
			t.Errorf("round trip of %+v gave %+v", c, got)
		}
	}
	text, _ := Checkpoint{Origin: "example.com/log", Size: 8, Root: root}.Format()
	if want := "example.com/log\n8\n" + rootB64 + "\n"; string(text) != want {
		t.Errorf("Format = %q, want %q", text, want)
	}
}

func TestParseCheckpointStrict(t *testing.T) {
	for name, text := range map[string]string{
		"empty":                 "",
		"no final newline":      "o\n8\n" + rootB64,
		"missing root":          "o\n8\n",
		"empty origin":          "\n8\n" + rootB64 + "\n",
		"leading zero":          "o\n08\n" + rootB64 + "\n",
		"plus sign":             "o\n+8\n" + rootB64 + "\n",
		"negative":              "o\n-8\n" + rootB64 + "\n",
		"space in size":         "o\n 8\n" + rootB64 + "\n",
		"hex size":              "o\n0x8\n" + rootB64 + "\n",
		"size overflow":         "o\n18446744073709551616\n" + rootB64 + "\n",
		"short root":            "o\n8\nAAAA\n",
		"long root":             "o\n8\n" + rootB64[:43] + "AAAA\n",
		"unpadded root":         "o\n8\n" + strings.TrimSuffix(rootB64, "=") + "\n",
		"non-canonical root":    "o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyh=\n",
		"url-safe root":         "o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg=\n",
		"empty extension":       "o\n8\n" + rootB64 + "\n\n",
		"carriage return":       "o\r\n8\n" + rootB64 + "\n",
		"invalid UTF-8":         "o\xff\n8\n" + rootB64 + "\n",
		"extension with tab":    "o\n8\n" + rootB64 + "\na\tb\n",
		"trailing extra blank":  "o\n8\n" + rootB64 + "\next\n\n",
		"root with spaces":      "o\n8\n " + rootB64 + "\n",
		"size with trailing sp": "o\n8 \n" + rootB64 + "\n",
	} {
		if _, err := ParseCheckpoint([]byte(text)); !errors.Is(err, ErrMalformedCheckpoint) {
			t.Errorf("%s: ParseCheckpoint(%q) = %v, want ErrMalformedCheckpoint", name, text, err)
		}
	}
	if c, err := ParseCheckpoint([]byte("o\n0\n" + rootB64 + "\n")); err != nil || c.Size != 0 {
		t.Errorf("size 0: %+v, %v", c, err)
	}
}

func TestFormatCheckpointRejectsInvalid(t *testing.T) {
	for _, c := range []Checkpoint{
		{Origin: ""},
		{Origin: "a\nb"},
		{Origin: "\xff"},
		{Origin: "o", Extensions: []string{""}},
		{Origin: "o", Extensions: []string{"a\nb"}},
	} {
		if _, err := c.Format(); !errors.Is(err, ErrMalformedCheckpoint) {
			t.Errorf("Format(%+v) = %v, want ErrMalformedCheckpoint", c, err)
		}
	}
}

func TestSignedCheckpoint(t *testing.T) {
	const origin = "archive.example.com/tenant-a"
	s := mustSigner(t, origin)
	var tree Tree
	for i := range 10 {
		tree.Append(LeafHash([]byte{byte(i)}))
	}
	c := Checkpoint{Origin: origin, Size: tree.Size(), Root: tree.Root()}
	msg, err := SignCheckpoint(c, s)
	if err != nil {
		t.Fatal(err)
	}
	got, n, err := OpenCheckpoint(msg, origin, []*Verifier{s.Verifier()})
	if err != nil {
		t.Fatalf("OpenCheckpoint: %v", err)
	}
	if got.Size != 10 || got.Root != tree.Root() || len(n.Sigs) != 1 {
		t.Errorf("OpenCheckpoint = %+v", got)
	}
	// A checkpoint validly signed by the same key for another origin must
	// not be accepted as this log's.
	other, err := SignCheckpoint(Checkpoint{Origin: "archive.example.com/tenant-b", Size: 10, Root: c.Root}, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := OpenCheckpoint(other, origin, []*Verifier{s.Verifier()}); !errors.Is(err, ErrMalformedCheckpoint) {
		t.Errorf("OpenCheckpoint of another origin: %v, want ErrMalformedCheckpoint", err)
	}
	if _, _, err := OpenCheckpoint(msg, origin, []*Verifier{mustSigner(t, origin).Verifier()}); !errors.Is(err, ErrUnverifiedNote) {
		t.Errorf("OpenCheckpoint with another key: %v, want ErrUnverifiedNote", err)
	}
	if _, err := SignCheckpoint(Checkpoint{}, s); !errors.Is(err, ErrMalformedCheckpoint) {
		t.Errorf("SignCheckpoint of an empty checkpoint: %v", err)
	}
}

// FuzzParseCheckpoint checks that parsing never panics and that the parser
// accepts only the canonical form: whatever parses must format back to the
// exact input bytes.
func FuzzParseCheckpoint(f *testing.F) {
	f.Add([]byte("example.com/log\n8\n" + rootB64 + "\n"))
	f.Add([]byte("o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next\n"))
	f.Add([]byte("o\n08\n" + rootB64 + "\n"))
	f.Add([]byte("o\n18446744073709551615\n" + rootB64 + "\n\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		c, err := ParseCheckpoint(text)
		if err != nil {
			if !errors.Is(err, ErrMalformedCheckpoint) {
				t.Fatalf("ParseCheckpoint error %v does not wrap ErrMalformedCheckpoint", err)
			}
			return
		}
		out, err := c.Format()
		if err != nil {
			t.Fatalf("Format of parsed checkpoint %+v: %v", c, err)
		}
		if string(out) != string(text) {
			t.Fatalf("round trip changed the checkpoint:\n in %q\nout %q", text, out)
		}
	})
}
