package keys

import (
	"crypto/rand"
	"testing"
	"time"
)

var testExpiry = time.Date(2033, time.November, 14, 8, 0, 0, 0, time.UTC)

// testKEK returns a LocalKEK over fresh random bytes, and the bytes, so that
// redaction tests can look for them.
func testKEK(t testing.TB, id string) (*LocalKEK, []byte) {
	t.Helper()
	secret := make([]byte, kekSize)
	rand.Read(secret)
	k, err := ParseLocalKEK(id, secret)
	if err != nil {
		t.Fatalf("ParseLocalKEK: %v", err)
	}
	return k, secret
}

func testManager(t testing.TB, opts Options) (*Manager, *MemoryStore) {
	t.Helper()
	kek, _ := testKEK(t, "kek-1")
	ring, err := NewKeyRing(kek)
	if err != nil {
		t.Fatal(err)
	}
	store := NewMemoryStore()
	m, err := NewManager(ring, store, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m, store
}

func testRef(id string) RecordRef {
	return RecordRef{ID: id, Tenant: "acme", Account: "desk/alice", Schema: "capture.v1", ExpiresAt: testExpiry}
}

func testScope() Scope {
	return Scope{Tenant: "acme", Account: "desk/alice", Bucket: BucketOf(testExpiry)}
}
