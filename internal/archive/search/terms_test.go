package search

import (
	"errors"
	"slices"
	"testing"
)

func TestIndexTerms(t *testing.T) {
	got := IndexTerms("哈哈哈 OK ok")
	want := "u54c8 b54c8x54c8 wok"
	if got != want {
		t.Errorf("IndexTerms = %q, want %q (distinct, in first-seen order)", got, want)
	}
	if arr := IndexTermArray("哈哈哈 OK ok"); !slices.Equal(arr, []string{"u54c8", "b54c8x54c8", "wok"}) {
		t.Errorf("IndexTermArray = %v", arr)
	}
}

func TestTermFormsNeverCollide(t *testing.T) {
	// A word spelled like a code is still a word.
	if a, b := IndexTerms("u996d"), IndexTerms("饭"); a == b {
		t.Errorf("word u996d and 饭 share the term %q", a)
	}
	for _, term := range IndexTermArray("香港 u9999 b9999x6e2f") {
		kind, _, err := DecodeTerm(term)
		if err != nil {
			t.Fatalf("DecodeTerm(%q): %v", term, err)
		}
		if term[0] == 'w' && kind != Word {
			t.Errorf("%q decodes as %v", term, kind)
		}
	}
}

func TestDecodeTermRejectsMalformed(t *testing.T) {
	for _, term := range []string{"", "w", "wA", "u", "uzz", "b9999", "u9999x6e2f", "q12", "u110000"} {
		if _, _, err := DecodeTerm(term); !errors.Is(err, ErrMalformedTerm) {
			t.Errorf("DecodeTerm(%q) error = %v, want ErrMalformedTerm", term, err)
		}
	}
}
