// Package keystoretest is the conformance suite every keys.Store passes: the
// in-memory store now, the SQLite and PostgreSQL archive backends later.
package keystoretest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/keys"
)

// Factory opens a fresh, empty store for one test.
type Factory func(t *testing.T) keys.Store

// Run runs the suite.
func Run(t *testing.T, open Factory) {
	tests := map[string]func(*testing.T, keys.Store){
		"create if absent keeps the first key of a scope": testCreateIfAbsent,
		"concurrent creates leave one key per scope":      testConcurrentCreate,
		"get and lookup find what was created":            testGetLookup,
		"destroy leaves a committed tombstone":            testDestroy,
		"a destroyed scope gets no new key":               testNoResurrection,
		"rewrap is a compare and swap":                    testRewrap,
		"list pages by id and filters by bucket":          testList,
		"returned bytes do not alias the store":           testNoAliasing,
		"invalid input is refused":                        testInvalid,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			fn(t, open(t))
		})
	}
}

var (
	created = time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	bucket  = keys.Bucket{Year: 2033, Month: time.November}
)

// DEK builds a valid live entry; wrapped bytes are arbitrary, the store does
// not interpret them.
func DEK(id, account string, b keys.Bucket) keys.WrappedDEK {
	return keys.WrappedDEK{
		ID:        "dek-" + id,
		Scope:     keys.Scope{Tenant: "acme", Account: account, Bucket: b},
		KEKID:     "kek-1",
		Wrapped:   []byte("wrapped:" + id),
		CreatedAt: created,
	}
}

func create(t *testing.T, s keys.Store, d keys.WrappedDEK) keys.WrappedDEK {
	t.Helper()
	got, ok, err := s.CreateIfAbsent(t.Context(), d)
	if err != nil || !ok {
		t.Fatalf("CreateIfAbsent(%s) = created %v, %v; want a new entry", d.ID, ok, err)
	}
	return got
}

func equal(a, b keys.WrappedDEK) bool {
	return a.ID == b.ID && a.Scope == b.Scope && a.KEKID == b.KEKID && bytes.Equal(a.Wrapped, b.Wrapped) &&
		a.CreatedAt.Equal(b.CreatedAt) && a.DestroyedAt.Equal(b.DestroyedAt) && a.WrappedSHA256 == b.WrappedSHA256
}

func testCreateIfAbsent(t *testing.T, s keys.Store) {
	first := create(t, s, DEK("A", "desk/alice", bucket))
	if !equal(first, DEK("A", "desk/alice", bucket)) {
		t.Fatalf("created entry %v differs from the one given", first)
	}
	got, ok, err := s.CreateIfAbsent(t.Context(), DEK("B", "desk/alice", bucket))
	if err != nil || ok {
		t.Fatalf("second create for the scope = created %v, %v; want the existing entry", ok, err)
	}
	if !equal(got, first) {
		t.Fatalf("second create returned %v, want the first %v", got, first)
	}
	if _, err := s.Get(t.Context(), "dek-B"); !errors.Is(err, keys.ErrKeyNotFound) {
		t.Fatalf("the losing key was stored: Get = %v", err)
	}
	other := create(t, s, DEK("C", "desk/alice", keys.Bucket{Year: 2033, Month: time.December}))
	if other.ID != "dek-C" {
		t.Fatalf("another bucket of the account must get its own key, got %s", other.ID)
	}
}

func testConcurrentCreate(t *testing.T, s keys.Store) {
	const n = 16
	var wg sync.WaitGroup
	ids := make([]string, n)
	wins := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			got, ok, err := s.CreateIfAbsent(context.Background(), DEK(fmt.Sprintf("R%02d", i), "desk/alice", bucket))
			ids[i], wins[i], errs[i] = got.ID, ok, err
		})
	}
	wg.Wait()
	winners := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("create %d: %v", i, errs[i])
		}
		if wins[i] {
			winners++
		}
		if ids[i] != ids[0] {
			t.Fatalf("creates returned different keys for one scope: %s and %s", ids[0], ids[i])
		}
	}
	if winners != 1 {
		t.Fatalf("%d creates won; exactly one must", winners)
	}
}

func testGetLookup(t *testing.T, s keys.Store) {
	d := create(t, s, DEK("A", "desk/alice", bucket))
	got, err := s.Get(t.Context(), d.ID)
	if err != nil || !equal(got, d) {
		t.Fatalf("Get = %v, %v; want %v", got, err, d)
	}
	got, err = s.Lookup(t.Context(), d.Scope)
	if err != nil || !equal(got, d) {
		t.Fatalf("Lookup = %v, %v; want %v", got, err, d)
	}
	if _, err := s.Get(t.Context(), "dek-missing"); !errors.Is(err, keys.ErrKeyNotFound) {
		t.Fatalf("Get of a missing id = %v, want ErrKeyNotFound", err)
	}
	missing := d.Scope
	missing.Account = "desk/bob"
	if _, err := s.Lookup(t.Context(), missing); !errors.Is(err, keys.ErrKeyNotFound) {
		t.Fatalf("Lookup of a missing scope = %v, want ErrKeyNotFound", err)
	}
}

func testDestroy(t *testing.T, s keys.Store) {
	d := create(t, s, DEK("A", "desk/alice", bucket))
	at := created.Add(24 * time.Hour)
	tomb, err := s.Destroy(t.Context(), d.ID, at)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(d.Wrapped)
	if !tomb.Destroyed() || tomb.Wrapped != nil || !tomb.DestroyedAt.Equal(at) || tomb.WrappedSHA256 != want {
		t.Fatalf("tombstone %v: destroyed %v, %d wrapped bytes, at %v, sha %x; want erased at %v with sha %x",
			tomb, tomb.Destroyed(), len(tomb.Wrapped), tomb.DestroyedAt, tomb.WrappedSHA256, at, want)
	}
	for name, get := range map[string]func() (keys.WrappedDEK, error){
		"Get":    func() (keys.WrappedDEK, error) { return s.Get(t.Context(), d.ID) },
		"Lookup": func() (keys.WrappedDEK, error) { return s.Lookup(t.Context(), d.Scope) },
	} {
		got, err := get()
		if err != nil || !equal(got, tomb) {
			t.Fatalf("%s after destroy = %v, %v; want the tombstone", name, got, err)
		}
	}
	again, err := s.Destroy(t.Context(), d.ID, at.Add(time.Hour))
	if err != nil || !equal(again, tomb) {
		t.Fatalf("destroying twice = %v, %v; want the first tombstone unchanged", again, err)
	}
	if _, err := s.Destroy(t.Context(), "dek-missing", at); !errors.Is(err, keys.ErrKeyNotFound) {
		t.Fatalf("destroying a missing key = %v, want ErrKeyNotFound", err)
	}
}

func testNoResurrection(t *testing.T, s keys.Store) {
	d := create(t, s, DEK("A", "desk/alice", bucket))
	if _, err := s.Destroy(t.Context(), d.ID, created); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.CreateIfAbsent(t.Context(), DEK("B", "desk/alice", bucket))
	if err != nil || ok || got.ID != d.ID || !got.Destroyed() {
		t.Fatalf("create after destroy = %v, created %v, %v; want the tombstone", got, ok, err)
	}
	if err := s.Rewrap(t.Context(), d.ID, nil, []byte("new"), "kek-2"); !errors.Is(err, keys.ErrShredded) {
		t.Fatalf("rewrap of a tombstone = %v, want ErrShredded", err)
	}
	if got, _ := s.Get(t.Context(), d.ID); got.Wrapped != nil {
		t.Fatal("a rewrap brought a destroyed key back")
	}
}

func testRewrap(t *testing.T, s keys.Store) {
	d := create(t, s, DEK("A", "desk/alice", bucket))
	if err := s.Rewrap(t.Context(), d.ID, []byte("stale"), []byte("new"), "kek-2"); !errors.Is(err, keys.ErrConflict) {
		t.Fatalf("rewrap from stale bytes = %v, want ErrConflict", err)
	}
	if err := s.Rewrap(t.Context(), d.ID, d.Wrapped, []byte("new"), "kek-2"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(t.Context(), d.ID)
	if err != nil || string(got.Wrapped) != "new" || got.KEKID != "kek-2" || got.Scope != d.Scope || got.Destroyed() {
		t.Fatalf("after rewrap: %v (%q), %v; want wrapped %q under kek-2", got, got.Wrapped, err, "new")
	}
	if err := s.Rewrap(t.Context(), d.ID, d.Wrapped, []byte("newer"), "kek-3"); !errors.Is(err, keys.ErrConflict) {
		t.Fatalf("a second rewrap from the original bytes = %v, want ErrConflict", err)
	}
	if err := s.Rewrap(t.Context(), "dek-missing", nil, []byte("x"), "kek-2"); !errors.Is(err, keys.ErrKeyNotFound) {
		t.Fatalf("rewrap of a missing key = %v, want ErrKeyNotFound", err)
	}
}

func testList(t *testing.T, s keys.Store) {
	other := keys.Bucket{Year: 2034, Month: time.January}
	for i := range 7 {
		b := bucket
		if i%3 == 0 {
			b = other
		}
		create(t, s, DEK(fmt.Sprintf("%02d", i), fmt.Sprintf("desk/u%d", i), b))
	}
	if _, err := s.Destroy(t.Context(), "dek-01", created); err != nil {
		t.Fatal(err)
	}
	var all []string
	for after := ""; ; {
		page, err := s.List(t.Context(), keys.ListQuery{After: after, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page {
			all = append(all, d.ID)
		}
		if len(page) < 3 {
			break
		}
		after = page[len(page)-1].ID
	}
	if fmt.Sprint(all) != "[dek-00 dek-01 dek-02 dek-03 dek-04 dek-05 dek-06]" {
		t.Fatalf("paging listed %v, want all seven in id order, tombstone included", all)
	}
	page, err := s.List(t.Context(), keys.ListQuery{Bucket: other, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range page {
		ids = append(ids, d.ID)
		if d.Scope.Bucket != other {
			t.Fatalf("bucket filter returned %v", d)
		}
	}
	if fmt.Sprint(ids) != "[dek-00 dek-03 dek-06]" {
		t.Fatalf("bucket %s listed %v, want [dek-00 dek-03 dek-06]", other, ids)
	}
}

func testNoAliasing(t *testing.T, s keys.Store) {
	d := DEK("A", "desk/alice", bucket)
	given := d.Wrapped
	got := create(t, s, d)
	given[0] ^= 0xff
	got.Wrapped[1] ^= 0xff
	fetched, err := s.Get(t.Context(), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	fetched.Wrapped[2] ^= 0xff
	again, _ := s.Get(t.Context(), d.ID)
	if string(again.Wrapped) != "wrapped:A" {
		t.Fatalf("caller writes reached the store: %q", again.Wrapped)
	}
}

func testInvalid(t *testing.T, s keys.Store) {
	cases := map[string]func(d *keys.WrappedDEK){
		"no id prefix":   func(d *keys.WrappedDEK) { d.ID = "A" },
		"no wrapped key": func(d *keys.WrappedDEK) { d.Wrapped = nil },
		"no tenant":      func(d *keys.WrappedDEK) { d.Scope.Tenant = "" },
		"no account":     func(d *keys.WrappedDEK) { d.Scope.Account = "" },
		"bad bucket":     func(d *keys.WrappedDEK) { d.Scope.Bucket = keys.Bucket{Year: 2033, Month: 13} },
		"bad KEK id":     func(d *keys.WrappedDEK) { d.KEKID = "has space" },
		"already dead":   func(d *keys.WrappedDEK) { d.DestroyedAt = created },
	}
	for name, mutate := range cases {
		d := DEK("A", "desk/alice", bucket)
		mutate(&d)
		if _, _, err := s.CreateIfAbsent(t.Context(), d); !errors.Is(err, keys.ErrInvalid) {
			t.Errorf("%s: CreateIfAbsent = %v, want ErrInvalid", name, err)
		}
	}
	for _, q := range []keys.ListQuery{{Limit: 0}, {Limit: keys.MaxListLimit + 1}, {Limit: 1, Bucket: keys.Bucket{Year: 2033}}} {
		if _, err := s.List(t.Context(), q); !errors.Is(err, keys.ErrInvalid) {
			t.Errorf("List(%+v) = %v, want ErrInvalid", q, err)
		}
	}
}
