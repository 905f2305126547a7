package segments

import (
	"bytes"
	"testing"
)

// FuzzReadSegment: Parse never panics or over-allocates on any input, and
// whatever it accepts is canonical: rebuilding the segment from what was
// parsed gives the same bytes, so no two byte strings mean the same
// segment and nothing in an accepted segment goes unchecked.
func FuzzReadSegment(f *testing.F) {
	one, _ := buildSegment(f, []byte("x"))
	three, _ := buildSegment(f, []byte("first"), bytes.Repeat([]byte{0}, 300), []byte("third"))
	f.Add(one)
	f.Add(three)
	f.Add(one[:len(one)-1])
	f.Add([]byte("VIGILSEG"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		seg, err := Parse(data)
		if err != nil {
			return
		}
		b, err := NewBuilder(seg.Header)
		if err != nil {
			t.Fatalf("Parse accepted a header NewBuilder refuses: %v", err)
		}
		for i := range seg.Entries {
			if _, err := b.Append(seg.Blob(i)); err != nil {
				t.Fatalf("Parse accepted blob %d that Append refuses: %v", i, err)
			}
		}
		again, sum, err := b.Seal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, data) || sum.SHA256 != seg.SHA256 {
			t.Fatalf("accepted segment of %d bytes re-encodes to %d different bytes", len(data), len(again))
		}
	})
}
