package sealing

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
)

func newSealer(t *testing.T, now time.Time) (*Sealer, *keys.MemoryStore) {
	t.Helper()
	raw := make([]byte, 32)
	rand.Read(raw)
	kek, err := keys.ParseLocalKEK("kek-test", raw)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := keys.NewKeyRing(kek)
	if err != nil {
		t.Fatal(err)
	}
	ks := keys.NewMemoryStore()
	s, err := New(ring, ks, "", func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, ks
}

func TestSealOpenRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _ := newSealer(t, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	env := storetest.Envelope("m1", time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), "內幕消息 guaranteed", 2)
	r, err := s.SealEnvelope(ctx, "desk/a", env)
	if err != nil {
		t.Fatal(err)
	}
	if r.KeyID == "" || bytes.Contains(r.SealedBody, []byte("guaranteed")) || len(r.SealedFindings) == 0 {
		t.Fatalf("sealed record %+v", r)
	}
	body, findings, err := s.Open(ctx, "desk/a", env.Record.ID, r.KeyID, r.SealedBody, r.SealedFindings)
	if err != nil || !bytes.Equal(body, r.Body) || !bytes.Equal(findings, r.Findings) {
		t.Fatalf("Open = %s, %s, %v", body, findings, err)
	}
	// The two ciphertexts are bound to their roles, the record id and the
	// account: swapped or moved, they do not open.
	for name, try := range map[string]func() error{
		"findings as record": func() error {
			_, _, err := s.Open(ctx, "desk/a", env.Record.ID, r.KeyID, r.SealedFindings, nil)
			return err
		},
		"another record id": func() error {
			_, _, err := s.Open(ctx, "desk/a", "01OTHER", r.KeyID, r.SealedBody, nil)
			return err
		},
		"another account": func() error {
			_, _, err := s.Open(ctx, "desk/b", env.Record.ID, r.KeyID, r.SealedBody, nil)
			return err
		},
		"another key id in the row": func() error {
			_, _, err := s.Open(ctx, "desk/a", env.Record.ID, "dek-OTHER", r.SealedBody, nil)
			return err
		},
	} {
		if err := try(); !errors.Is(err, keys.ErrTampered) {
			t.Errorf("%s: %v, want ErrTampered", name, err)
		}
	}
	// A row without a key id predates encryption and is returned as is.
	if body, _, err := s.Open(ctx, "desk/a", env.Record.ID, "", r.Body, nil); err != nil || !bytes.Equal(body, r.Body) {
		t.Fatalf("plaintext row: %v", err)
	}
}

func TestShreddedMonthFallsBackToTheCurrentMonth(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	s, ks := newSealer(t, now)
	march := time.Date(2020, 3, 5, 0, 0, 0, 0, time.UTC)
	env := storetest.Envelope("m1", march, "one", 1)
	first, err := s.SealEnvelope(ctx, "desk/a", env)
	if err != nil {
		t.Fatal(err)
	}
	tomb, err := ks.Destroy(ctx, first.KeyID, now)
	if err != nil {
		t.Fatal(err)
	}
	// The cached copy still seals until it is forgotten; ForgetDestroyed
	// is what a backend calls when its writer refused such a batch.
	if err := s.ForgetDestroyed(ctx, ks, first.KeyID); err != nil {
		t.Fatal(err)
	}
	late, err := s.SealEnvelope(ctx, "desk/a", storetest.Envelope("m2", march, "late", 1))
	if err != nil {
		t.Fatal(err)
	}
	current, err := ks.Lookup(ctx, keys.Scope{Tenant: DefaultTenant, Account: "desk/a", Bucket: keys.BucketOf(now)})
	if err != nil || late.KeyID != current.ID || late.KeyID == tomb.ID {
		t.Fatalf("late record sealed under %s, want the current month's key %v (%v)", late.KeyID, current, err)
	}
	if _, _, err := s.Open(ctx, "desk/a", env.Record.ID, first.KeyID, first.SealedBody, nil); !errors.Is(err, keys.ErrShredded) {
		t.Fatalf("opening under a destroyed key: %v, want ErrShredded", err)
	}
}
