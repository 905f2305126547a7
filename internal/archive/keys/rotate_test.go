package keys

import (
	"errors"
	"fmt"
	"testing"
)

func TestRotateRewrapsUnderTheNewKEK(t *testing.T) {
	oldKEK, _ := testKEK(t, "kek-2026")
	newKEK, _ := testKEK(t, "kek-2027")
	oldRing, _ := NewKeyRing(oldKEK)
	store := NewMemoryStore()
	before, _ := NewManager(oldRing, store, Options{})

	const records = 1200 // more than one page of the store listing
	sealed := make([]Sealed, records)
	refs := make([]RecordRef, records)
	for i := range records {
		refs[i] = testRef(fmt.Sprintf("r%04d", i))
		refs[i].Account = fmt.Sprintf("desk/u%d", i%600)
		s, err := before.Seal(t.Context(), refs[i], []byte(refs[i].ID))
		if err != nil {
			t.Fatal(err)
		}
		sealed[i] = s
	}
	shredded := testScope()
	shredded.Account = "desk/u0"
	if _, err := before.Destroy(t.Context(), shredded); err != nil {
		t.Fatal(err)
	}

	during, _ := NewKeyRing(newKEK, oldKEK)
	rotating, _ := NewManager(during, store, Options{})
	report, err := rotating.Rotate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := RotationReport{CurrentKEK: "kek-2027", Examined: 600, Rewrapped: 599, Destroyed: 1}
	if report != want {
		t.Fatalf("Rotate = %+v, want %+v", report, want)
	}
	again, err := rotating.Rotate(t.Context())
	if err != nil || again.Rewrapped != 0 || again.AlreadyCurrent != 599 {
		t.Fatalf("second Rotate = %+v, %v; want nothing left to rewrap", again, err)
	}

	// The old KEK is gone; every record except the shredded ones opens.
	newOnly, _ := NewKeyRing(newKEK)
	after, _ := NewManager(newOnly, store, Options{})
	for i := range records {
		got, err := after.Open(t.Context(), refs[i], sealed[i])
		if refs[i].Account == "desk/u0" {
			if !errors.Is(err, ErrShredded) {
				t.Fatalf("record %d of the shredded bucket: %v", i, err)
			}
			continue
		}
		if err != nil || string(got) != refs[i].ID {
			t.Fatalf("record %d after rotation: %q, %v", i, got, err)
		}
	}
	all, _ := store.List(t.Context(), ListQuery{Limit: MaxListLimit})
	for _, d := range all {
		if !d.Destroyed() && d.KEKID != "kek-2027" {
			t.Fatalf("%v still under %s", d, d.KEKID)
		}
	}
}

func TestRemovingAKEKTooEarlyFailsClearly(t *testing.T) {
	oldKEK, _ := testKEK(t, "kek-2026")
	newKEK, _ := testKEK(t, "kek-2027")
	oldRing, _ := NewKeyRing(oldKEK)
	store := NewMemoryStore()
	before, _ := NewManager(oldRing, store, Options{})
	sealed, _ := before.Seal(t.Context(), testRef("r1"), []byte("x"))

	newOnly, _ := NewKeyRing(newKEK)
	after, _ := NewManager(newOnly, store, Options{})
	if _, err := after.Open(t.Context(), testRef("r1"), sealed); !errors.Is(err, ErrUnknownKEK) {
		t.Fatalf("Open without the wrapping KEK: %v, want ErrUnknownKEK", err)
	}
	if _, err := after.Rotate(t.Context()); !errors.Is(err, ErrUnknownKEK) {
		t.Fatalf("Rotate without the old KEK: %v, want ErrUnknownKEK", err)
	}
}
