package sqlite

import (
	"context"
	"testing"

	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/capture"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(context.Background(), t.TempDir(), Options{Logger: logr.Discard()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	env := storetest.Envelope("m1", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "持久", 0)
	if _, err := s.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{env}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{env}); err == nil {
		t.Fatal("a closed store must refuse writes")
	}
	s, err = Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, _ := s.Stats(ctx, "desk/a")
	if st.MessagesCaptured != 1 {
		t.Fatalf("after reopening: %d messages, want 1", st.MessagesCaptured)
	}
}
