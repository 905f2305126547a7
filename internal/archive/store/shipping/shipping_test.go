package shipping

import (
	"context"
	"errors"
	"testing"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/archive/segments"
)

// The passes themselves run against real catalogs in the SQLite and
// PostgreSQL backends' tests; these pin the lifecycle.
func TestShipperLifecycle(t *testing.T) {
	if sh := Start(nil, nil, nil, logr.Discard()); sh != nil {
		t.Fatal("no options must start no shipper")
	}
	var off *Shipper
	if err := off.Pass(context.Background()); !errors.Is(err, ErrOff) {
		t.Fatalf("a pass without segments: %v, want ErrOff", err)
	}
	off.Close()
	backend, err := segments.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sh := Start(nil, &Options{Backend: backend}, nil, logr.Discard())
	if sh.opts.Interval != DefaultInterval {
		t.Fatalf("interval %v, want the default", sh.opts.Interval)
	}
	sh.Close()
	sh.Close() // twice is fine
}
