package keys

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestDestroyShredsTheBucket(t *testing.T) {
	destroyedAt := time.Date(2033, 12, 1, 3, 0, 0, 0, time.UTC)
	m, store := testManager(t, Options{Now: func() time.Time { return destroyedAt }})
	ref := testRef("01JSHRED")
	sealed, err := m.Seal(t.Context(), ref, []byte("past retention"))
	if err != nil {
		t.Fatal(err)
	}
	neighbour := testRef("01JNEXTMONTH")
	neighbour.ExpiresAt = BucketOf(testExpiry).End()
	kept, _ := m.Seal(t.Context(), neighbour, []byte("still retained"))

	cached := m.cache.getByID(sealed.KeyID)
	raw := cached.raw
	before, _ := store.Get(t.Context(), sealed.KeyID)

	d, err := m.Destroy(t.Context(), testScope())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(before.Wrapped)
	want := Destruction{KeyID: sealed.KeyID, Tenant: "acme", Account: "desk/alice", Bucket: BucketOf(testExpiry),
		KEKID: "kek-1", CreatedAt: before.CreatedAt, DestroyedAt: destroyedAt, WrappedSHA256: hex.EncodeToString(sum[:])}
	if d != want {
		t.Fatalf("Destroy = %+v, want %+v", d, want)
	}
	if !bytes.Equal(raw, make([]byte, dekSize)) {
		t.Fatal("the cached DEK was not zeroed")
	}
	if _, err := m.Open(t.Context(), ref, sealed); !errors.Is(err, ErrShredded) {
		t.Fatalf("Open after destroy: %v, want ErrShredded", err)
	}
	if _, err := m.Seal(t.Context(), ref, []byte("late arrival")); !errors.Is(err, ErrShredded) {
		t.Fatalf("Seal into a destroyed bucket: %v, want ErrShredded (no new key for a purged bucket)", err)
	}
	fresh, _ := NewManager(m.ring, store, Options{})
	if _, err := fresh.Open(t.Context(), ref, sealed); !errors.Is(err, ErrShredded) {
		t.Fatalf("Open by a fresh manager: %v, want ErrShredded", err)
	}
	if got, err := m.Open(t.Context(), neighbour, kept); err != nil || string(got) != "still retained" {
		t.Fatalf("the next bucket was harmed: %q, %v", got, err)
	}
	again, err := m.Destroy(t.Context(), testScope())
	if err != nil || again != d {
		t.Fatalf("destroying twice = %+v, %v; want the same record", again, err)
	}
	certificate, err := json.Marshal(d)
	if err != nil || !bytes.Contains(certificate, []byte(`"bucket":"2033-11"`)) {
		t.Fatalf("certificate entry %s, %v", certificate, err)
	}
	missing := testScope()
	missing.Account = "desk/nobody"
	if _, err := m.Destroy(t.Context(), missing); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("destroying a scope without a key: %v, want ErrKeyNotFound", err)
	}
}

func TestDestroyRacesSeal(t *testing.T) {
	// Every seal either finishes before the destroy (and opens until it)
	// or fails with ErrShredded; none succeeds after the key is gone.
	for range 20 {
		m, _ := testManager(t, Options{})
		if _, err := m.DEKFor(t.Context(), testScope()); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var destroyed sync.WaitGroup
		destroyed.Add(1)
		wg.Go(func() {
			defer destroyed.Done()
			if _, err := m.Destroy(t.Context(), testScope()); err != nil {
				t.Error(err)
			}
		})
		for range 4 {
			wg.Go(func() {
				for {
					_, err := m.Seal(t.Context(), testRef("r"), []byte("x"))
					if errors.Is(err, ErrShredded) {
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if _, err := m.Seal(t.Context(), testRef("r"), []byte("x")); !errors.Is(err, ErrShredded) {
			t.Fatalf("Seal after the destroy returned: %v", err)
		}
	}
}
