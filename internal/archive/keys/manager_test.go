package keys

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSealOpenRoundTrip(t *testing.T) {
	m, store := testManager(t, Options{})
	for _, plaintext := range [][]byte{nil, []byte("x"), []byte("买入 0700.HK 内幕消息 🚀"), bytes.Repeat([]byte{0xab}, 1<<20)} {
		ref := testRef(fmt.Sprintf("01J%d", len(plaintext)))
		sealed, err := m.Seal(t.Context(), ref, plaintext)
		if err != nil {
			t.Fatal(err)
		}
		// Eight bytes and up: a shorter plaintext turns up in random
		// ciphertext by chance (one byte, about one run in sixteen).
		if len(plaintext) >= 8 && bytes.Contains(sealed.Ciphertext, plaintext) {
			t.Fatal("plaintext appears in the ciphertext")
		}
		got, err := m.Open(t.Context(), ref, sealed)
		if err != nil || !bytes.Equal(got, plaintext) {
			t.Fatalf("Open = %d bytes, %v; want the %d-byte plaintext", len(got), err, len(plaintext))
		}
	}
	// A fresh manager (a restart) opens from the store alone.
	ring := m.ring
	restarted, _ := NewManager(ring, store, Options{})
	ref := testRef("01JRESTART")
	sealed, _ := m.Seal(t.Context(), ref, []byte("survives a restart"))
	if got, err := restarted.Open(t.Context(), ref, sealed); err != nil || string(got) != "survives a restart" {
		t.Fatalf("Open after restart = %q, %v", got, err)
	}
}

func TestSealPicksTheBucketKey(t *testing.T) {
	m, store := testManager(t, Options{})
	a, _ := m.Seal(t.Context(), testRef("r1"), []byte("a"))
	same := testRef("r2")
	same.ExpiresAt = testExpiry.Add(24 * time.Hour) // same month
	b, _ := m.Seal(t.Context(), same, []byte("b"))
	next := testRef("r3")
	next.ExpiresAt = BucketOf(testExpiry).End()
	c, _ := m.Seal(t.Context(), next, []byte("c"))
	if a.KeyID != b.KeyID || a.KeyID == c.KeyID {
		t.Fatalf("key ids %s %s %s: want one key per month", a.KeyID, b.KeyID, c.KeyID)
	}
	bob := testRef("r4")
	bob.Account = "desk/bob"
	d, _ := m.Seal(t.Context(), bob, []byte("d"))
	if d.KeyID == a.KeyID {
		t.Fatal("two accounts share a key")
	}
	all, _ := store.List(t.Context(), ListQuery{Limit: 10})
	if len(all) != 3 {
		t.Fatalf("store holds %d keys, want 3", len(all))
	}
}

func TestOpenRejectsMovedCiphertext(t *testing.T) {
	m, _ := testManager(t, Options{})
	ref := testRef("01JORIGINAL")
	sealed, err := m.Seal(t.Context(), ref, []byte("buy before the announcement"))
	if err != nil {
		t.Fatal(err)
	}
	// The other account must have its own key for "moved to another
	// account" to reach the key lookup rather than only the AAD.
	bobRef := testRef("01JBOB")
	bobRef.Account = "desk/bob"
	if _, err := m.Seal(t.Context(), bobRef, []byte("bob")); err != nil {
		t.Fatal(err)
	}
	moves := map[string]func(r *RecordRef){
		"another record id":      func(r *RecordRef) { r.ID = "01JOTHER" },
		"another account":        func(r *RecordRef) { r.Account = "desk/bob" },
		"another tenant":         func(r *RecordRef) { r.Tenant = "globex" },
		"another schema":         func(r *RecordRef) { r.Schema = "capture.v2" },
		"id prefix of the other": func(r *RecordRef) { r.ID = "01JORIGINA" },
	}
	for name, move := range moves {
		t.Run(name, func(t *testing.T) {
			moved := ref
			move(&moved)
			got, err := m.Open(t.Context(), moved, sealed)
			if !errors.Is(err, ErrTampered) || got != nil {
				t.Fatalf("Open = %q, %v; want ErrTampered", got, err)
			}
		})
	}
	// Another key of the same account (another bucket) does not open it.
	other := ref
	other.ExpiresAt = testExpiry.AddDate(0, 1, 0)
	otherSealed, _ := m.Seal(t.Context(), other, []byte("x"))
	swapped := sealed
	swapped.KeyID = otherSealed.KeyID
	if _, err := m.Open(t.Context(), ref, swapped); !errors.Is(err, ErrTampered) {
		t.Fatalf("ciphertext relabelled to another key of the account: %v, want ErrTampered", err)
	}
	// Expiry is not part of the binding: retention may change after sealing.
	later := ref
	later.ExpiresAt = testExpiry.AddDate(3, 0, 0)
	if _, err := m.Open(t.Context(), later, sealed); err != nil {
		t.Fatalf("a changed retention must not orphan the record: %v", err)
	}
}

func TestOpenRejectsEveryBitFlip(t *testing.T) {
	m, _ := testManager(t, Options{})
	ref := testRef("01JFLIP")
	sealed, err := m.Seal(t.Context(), ref, []byte("sixteen byte msg and some more"))
	if err != nil {
		t.Fatal(err)
	}
	blob, _ := sealed.MarshalBinary()
	for bit := range len(blob) * 8 {
		flipped, err := ParseSealed(flipBit(blob, bit))
		if err != nil {
			if !errors.Is(err, ErrTampered) {
				t.Fatalf("bit %d: parse error %v does not wrap ErrTampered", bit, err)
			}
			continue
		}
		got, err := m.Open(t.Context(), ref, flipped)
		if err == nil {
			t.Fatalf("bit %d flipped: opened to %q", bit, got)
		}
		// Flips in the key id name a key that does not exist.
		if !errors.Is(err, ErrTampered) && !errors.Is(err, ErrKeyNotFound) {
			t.Fatalf("bit %d flipped: %v, want ErrTampered or ErrKeyNotFound", bit, err)
		}
	}
}

func TestNoncesNeverRepeat(t *testing.T) {
	m, _ := testManager(t, Options{})
	const n = 200_000
	seen := make(map[[nonceSize]byte]struct{}, n)
	ref := testRef("01JNONCE")
	for range n {
		s, err := m.Seal(t.Context(), ref, []byte("same plaintext every time"))
		if err != nil {
			t.Fatal(err)
		}
		var nonce [nonceSize]byte
		copy(nonce[:], s.Nonce)
		if _, dup := seen[nonce]; dup {
			t.Fatalf("nonce %x repeated after %d seals", nonce, len(seen))
		}
		seen[nonce] = struct{}{}
	}
	// Each nonce bit should be set about half the time: catches a nonce
	// that is partly constant or a counter, which would not repeat either.
	var ones [nonceSize * 8]int
	for nonce := range seen {
		for i := range ones {
			if nonce[i/8]&(1<<(i%8)) != 0 {
				ones[i]++
			}
		}
	}
	for i, c := range ones {
		// n/2 ± 6σ, σ = sqrt(n)/2 ≈ 224.
		if c < n/2-1350 || c > n/2+1350 {
			t.Fatalf("nonce bit %d set %d times in %d seals; not random", i, c, n)
		}
	}
}

// countingStore counts creations and slows them, so that racing callers
// overlap inside DEKFor.
type countingStore struct {
	*MemoryStore
	creates atomic.Int32
}

func (s *countingStore) CreateIfAbsent(ctx context.Context, d WrappedDEK) (WrappedDEK, bool, error) {
	s.creates.Add(1)
	time.Sleep(5 * time.Millisecond)
	return s.MemoryStore.CreateIfAbsent(ctx, d)
}

func TestDEKCreationIsSingleFlight(t *testing.T) {
	kek, _ := testKEK(t, "kek-1")
	ring, _ := NewKeyRing(kek)
	store := &countingStore{MemoryStore: NewMemoryStore()}
	m, _ := NewManager(ring, store, Options{})
	const goroutines = 32
	ids := make([]string, goroutines)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range goroutines {
		wg.Go(func() {
			<-start
			s, err := m.Seal(context.Background(), testRef(fmt.Sprintf("r%d", i)), []byte("x"))
			if err != nil {
				t.Error(err)
			}
			ids[i] = s.KeyID
		})
	}
	close(start)
	wg.Wait()
	if n := store.creates.Load(); n != 1 {
		t.Fatalf("%d DEK creations for one bucket, want 1", n)
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("records sealed under %s and %s", ids[0], id)
		}
	}
	if m.locks.len() != 0 {
		t.Fatalf("%d scope locks left behind", m.locks.len())
	}
}

func TestTwoReplicasShareOneKey(t *testing.T) {
	kek, _ := testKEK(t, "kek-1")
	ring, _ := NewKeyRing(kek)
	store := NewMemoryStore()
	a, _ := NewManager(ring, store, Options{})
	b, _ := NewManager(ring, store, Options{})
	var wg sync.WaitGroup
	var ka, kb *DataKey
	wg.Go(func() { ka, _ = a.DEKFor(context.Background(), testScope()) })
	wg.Go(func() { kb, _ = b.DEKFor(context.Background(), testScope()) })
	wg.Wait()
	if ka == nil || kb == nil || ka.ID() != kb.ID() {
		t.Fatalf("replicas hold keys %v and %v for one scope", ka, kb)
	}
	sealed, _ := a.Seal(t.Context(), testRef("r1"), []byte("x"))
	if _, err := b.Open(t.Context(), testRef("r1"), sealed); err != nil {
		t.Fatalf("replica b cannot open replica a's record: %v", err)
	}
}

func TestConcurrentSealOpenUnderEviction(t *testing.T) {
	// A cache of 2 for 6 buckets forces evictions in the middle of
	// operations; run with -race.
	m, _ := testManager(t, Options{CacheSize: 2})
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			ref := testRef(fmt.Sprintf("g%d", g))
			ref.ExpiresAt = testExpiry.AddDate(0, g, 0)
			for i := range 200 {
				msg := []byte(fmt.Sprintf("goroutine %d message %d", g, i))
				s, err := m.Seal(context.Background(), ref, msg)
				if err != nil {
					t.Error(err)
					return
				}
				got, err := m.Open(context.Background(), ref, s)
				if err != nil || !bytes.Equal(got, msg) {
					t.Errorf("Open = %q, %v", got, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := m.cache.len(); n > 2 {
		t.Fatalf("cache holds %d keys, bound is 2", n)
	}
}

func TestEvictedKeysAreZeroed(t *testing.T) {
	m, _ := testManager(t, Options{CacheSize: 1})
	first, err := m.DEKFor(t.Context(), testScope())
	if err != nil {
		t.Fatal(err)
	}
	raw := first.raw // keep the slice header to look at the bytes after eviction
	next := testScope()
	next.Bucket = next.Bucket.Next()
	if _, err := m.DEKFor(t.Context(), next); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, make([]byte, dekSize)) || first.aead != nil {
		t.Fatal("evicted DEK was not zeroed")
	}
	m.Close()
	if m.cache.len() != 0 {
		t.Fatal("Close left keys cached")
	}
	// Still usable: keys reload from the store.
	if _, err := m.Seal(t.Context(), testRef("r1"), []byte("x")); err != nil {
		t.Fatal(err)
	}
}

func TestInvalidArguments(t *testing.T) {
	m, _ := testManager(t, Options{})
	for name, ref := range map[string]RecordRef{
		"no id":      {Tenant: "t", Account: "a", Schema: "s", ExpiresAt: testExpiry},
		"no tenant":  {ID: "r", Account: "a", Schema: "s", ExpiresAt: testExpiry},
		"no account": {ID: "r", Tenant: "t", Schema: "s", ExpiresAt: testExpiry},
		"no schema":  {ID: "r", Tenant: "t", Account: "a", ExpiresAt: testExpiry},
		"no expiry":  {ID: "r", Tenant: "t", Account: "a", Schema: "s"},
	} {
		if _, err := m.Seal(t.Context(), ref, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("Seal with %s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := m.DEKFor(t.Context(), Scope{Tenant: "t", Account: "a"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("DEKFor without a bucket: %v", err)
	}
	if _, err := m.Open(t.Context(), testRef("r"), Sealed{}); !errors.Is(err, ErrTampered) {
		t.Errorf("Open of an empty Sealed: %v", err)
	}
	if _, err := NewManager(nil, NewMemoryStore(), Options{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("NewManager without a ring: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := m.Seal(ctx, testRef("r"), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Seal with a cancelled context: %v", err)
	}
}
