package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/testenv"
)

// TestArchiveOpensEachBackend opens the archive's store as `vigil archive`
// does, on SQLite and on a real PostgreSQL, and stores and finds a record
// through each; PostgreSQL without keys from Secrets is refused.
func TestArchiveOpensEachBackend(t *testing.T) {
	ctx := context.Background()
	secrets := t.TempDir()
	signer, err := tlog.GenerateSigner("archive.example.com/test", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signerFile := filepath.Join(secrets, "signing.key")
	kekFile := filepath.Join(secrets, "kek")
	dsnFile := filepath.Join(secrets, "dsn")
	raw := make([]byte, 32)
	rand.Read(raw)
	pg := testenv.StartPostgres(t)
	for name, content := range map[string]string{signerFile: signer.PrivateKeyString(), kekFile: base64.StdEncoding.EncodeToString(raw), dsnFile: pg.DSN + "\n"} {
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	base := archiveOptions{dataDir: t.TempDir(), logOrigin: "archive.example.com/test", logSigningKey: signerFile, kekFile: kekFile, kekID: "kek-1"}

	for _, backend := range []string{backendSQLite, backendPostgres} {
		t.Run(backend, func(t *testing.T) {
			o := base
			o.backend = backend
			if backend == backendPostgres {
				o.postgresDSNFile = dsnFile
			}
			st, err := openArchiveStore(ctx, &o, logr.Discard())
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			env := storetest.Envelope("cli-1", time.Now(), "開市前傾下", 0)
			if _, err := st.Ingest(ctx, "desk/a", "A", "connector", []capture.Envelope{env}); err != nil {
				t.Fatal(err)
			}
			got, _, err := st.List(ctx, store.Query{Account: "desk/a", Text: "開市"})
			if err != nil || len(got) != 1 || st.Origin() != "archive.example.com/test" || st.Verifier().String() != signer.Verifier().String() {
				t.Fatalf("list = %v, %v; origin %s", got, err, st.Origin())
			}
		})
	}

	// The WORM copy on the filesystem store: records reach a segment.
	withSegments := base
	withSegments.backend, withSegments.dataDir = backendSQLite, t.TempDir()
	withSegments.segments = segmentFlags{mode: "fs", dir: t.TempDir(), retention: time.Hour, interval: time.Hour}
	st, err := openArchiveStore(ctx, &withSegments, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Ingest(ctx, "desk/a", "A", "connector", []capture.Envelope{storetest.Envelope("seg-1", time.Now(), "x", 0)}); err != nil {
		t.Fatal(err)
	}
	if err := st.(interface{ ShipSegments(context.Context) error }).ShipSegments(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()
	objects, _ := filepath.Glob(filepath.Join(withSegments.segments.dir, "objects", "segments", "desk", "a", "*", "*.seg"))
	if len(objects) != 1 {
		t.Fatalf("segment objects %v, want one", objects)
	}
	for _, bad := range []segmentFlags{{mode: "fs"}, {mode: "s3", bucket: "b"}, {mode: "tape"}} {
		o := base
		o.backend, o.segments = backendSQLite, bad
		if _, err := openArchiveStore(ctx, &o, logr.Discard()); err == nil {
			t.Fatalf("segments %+v accepted", bad)
		}
	}

	noKeys := base
	noKeys.backend, noKeys.postgresDSNFile, noKeys.kekFile = backendPostgres, dsnFile, ""
	if _, err := openArchiveStore(ctx, &noKeys, logr.Discard()); err == nil || !strings.Contains(err.Error(), "--kek-file") {
		t.Fatalf("postgres without a KEK from a Secret: %v", err)
	}
	wrong := base
	wrong.backend = "mysql"
	if _, err := openArchiveStore(ctx, &wrong, logr.Discard()); err == nil || !strings.Contains(err.Error(), "--store must be") {
		t.Fatalf("an unknown backend: %v", err)
	}
}
