package shipping_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/archive/segments"
	"github.com/vigil-operator/vigil/internal/archive/store/shipping"
	"github.com/vigil-operator/vigil/internal/archive/store/sqlite"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/capture"
)

// The passes run against both backends' catalogs in their own tests; this
// pins the lifecycle: nothing without options, and a last pass on a clean
// shutdown, so records stored just before a rollout reach a segment.
func TestShipperLifecycle(t *testing.T) {
	if sh := shipping.Start(nil, nil, nil, logr.Discard()); sh != nil {
		t.Fatal("no options must start no shipper")
	}
	var off *shipping.Shipper
	if err := off.Pass(context.Background()); !errors.Is(err, shipping.ErrOff) {
		t.Fatalf("a pass without segments: %v, want ErrOff", err)
	}
	off.Close()

	ctx := context.Background()
	backend, err := segments.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, t.TempDir(), sqlite.Options{Logger: logr.Discard(),
		Segments: &shipping.Options{Backend: backend, Retention: time.Hour, Interval: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	env := storetest.Envelope("s-1", time.Now(), "收市前", 0)
	if _, err := st.Ingest(ctx, "desk/a", "A", "connector", []capture.Envelope{env}); err != nil {
		t.Fatal(err)
	}
	// The hourly pass has not run; closing ships the record.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("closing twice: %v", err)
	}
	objects := 0
	for _, err := range backend.List(ctx, "segments/") {
		if err != nil {
			t.Fatal(err)
		}
		objects++
	}
	if objects != 1 {
		t.Fatalf("%d segment objects after a clean shutdown, want 1", objects)
	}
}
