package segments

import (
	"errors"
	"strings"
	"testing"

	"github.com/vigil-operator/vigil/internal/archive/keys"
)

func TestBuilderRefuses(t *testing.T) {
	b, err := NewBuilder(testHeader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty blob: %v", err)
	}
	if _, err := b.Append(make([]byte, MaxBlobSize+1)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("oversized blob: %v", err)
	}
	if _, _, err := b.Seal(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("sealing an empty segment: %v", err)
	}
	bad := map[string]Header{
		"zero id":           {Account: "a/b", Bucket: testHeader.Bucket, KeyID: "k"},
		"no account":        {ID: testHeader.ID, Bucket: testHeader.Bucket, KeyID: "k"},
		"dotdot account":    {ID: testHeader.ID, Account: "a/../b", Bucket: testHeader.Bucket, KeyID: "k"},
		"space in account":  {ID: testHeader.ID, Account: "a b", Bucket: testHeader.Bucket, KeyID: "k"},
		"long account":      {ID: testHeader.ID, Account: strings.Repeat("a", 256), Bucket: testHeader.Bucket, KeyID: "k"},
		"month 13":          {ID: testHeader.ID, Account: "a/b", Bucket: keys.Bucket{Year: 2030, Month: 13}, KeyID: "k"},
		"no key id":         {ID: testHeader.ID, Account: "a/b", Bucket: testHeader.Bucket},
		"key id with space": {ID: testHeader.ID, Account: "a/b", Bucket: testHeader.Bucket, KeyID: "a b"},
	}
	for name, h := range bad {
		if _, err := NewBuilder(h); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: NewBuilder returned %v; want ErrInvalid", name, err)
		}
	}
}
