package segments

import (
	"errors"
	"testing"
)

func TestKeyRoundTrip(t *testing.T) {
	k := Key(testHeader)
	if want := "segments/desk/alice/2033-05/" + testHeader.ID.String() + ".seg"; k != want {
		t.Fatalf("Key = %s; want %s", k, want)
	}
	account, bucket, id, err := ParseKey(k)
	if err != nil || account != testHeader.Account || bucket != testHeader.Bucket || id != testHeader.ID {
		t.Fatalf("ParseKey(%s) = %s %s %s, %v", k, account, bucket, id, err)
	}
	if p := BucketPrefix(testHeader.Account, testHeader.Bucket); len(p) >= len(k) || k[:len(p)] != p {
		t.Fatalf("bucket prefix %s does not lead key %s", p, k)
	}
}

func TestParseKeyRefuses(t *testing.T) {
	id := testHeader.ID.String()
	for _, k := range []string{
		"",
		"other/desk/alice/2033-05/" + id + ".seg",
		"segments/desk/alice/2033-05/" + id,
		"segments/2033-05/" + id + ".seg",
		"segments/desk/alice/2033-13/" + id + ".seg",
		"segments/desk/../2033-05/" + id + ".seg",
		"segments/desk/alice/2033-05/not-a-ulid.seg",
		"segments/desk/alice/2033-05/" + "00000000000000000000000000.seg",
		"segments/desk/alice/2033-05/" + "01jbz3k4q8w9e7r6t5y4v3x2z1.seg", // not canonical
	} {
		if _, _, _, err := ParseKey(k); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseKey(%q) = %v; want ErrInvalid", k, err)
		}
	}
}
