package verify

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/archive/api"
	"github.com/vigil-operator/vigil/internal/archive/store/sqlite"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
	"github.com/vigil-operator/vigil/internal/capture"
)

const auditorToken = "auditor-token-0123456789abcdef"

// auditorOnly lets the auditor read the log and nobody anything else.
type auditorOnly struct{}

func (auditorOnly) Allowed(_ context.Context, id api.Identity, verb, resource, _ string) (bool, error) {
	return id.Username == "auditor@example.com" && verb == "get" && resource == api.ResourceAudit, nil
}

// liar serves the archive but changes one byte of the second leaf it lists.
func liar(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/log/leaves" {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		lines := bytes.SplitN(rec.Body.Bytes(), []byte("\n"), 3)
		if len(lines) == 3 {
			// The last hex digit of the leaf's last hash: still a
			// canonical leaf, just not the one the log signed.
			leaf := lines[1]
			last := len(leaf) - len(`"}`) - 1
			if leaf[last] == '0' {
				leaf[last] = '1'
			} else {
				leaf[last] = '0'
			}
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(bytes.Join(lines, []byte("\n")))
	})
}

func TestServed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, dir, sqlite.Options{Logger: logr.Discard(), CheckpointInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ingest := func(native string) {
		t.Helper()
		env := storetest.Envelope(native, time.Now(), "message "+native, 1)
		if _, err := st.Ingest(ctx, alice, "Alice", "connector", []capture.Envelope{env}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"a", "b", "c"} {
		ingest(n)
	}
	kept, err := st.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"d", "e"} {
		ingest(n)
	}
	server, err := api.NewServer(api.Options{Store: st, Authenticator: api.NewStaticTokens(map[string]string{auditorToken: "auditor@example.com"}),
		Authorizer: auditorOnly{}, Logger: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	honest := httptest.NewServer(server.Handler())
	t.Cleanup(honest.Close)
	lying := httptest.NewServer(liar(server.Handler()))
	t.Cleanup(lying.Close)

	pinned := st.Verifier()
	stranger, err := tlog.GenerateSigner(sqlite.DefaultLogOrigin, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer := signerOf(t, dir)
	forked, err := tlog.SignCheckpoint(tlog.Checkpoint{Origin: sqlite.DefaultLogOrigin, Size: 2, Root: tlog.LeafHash([]byte("x"))}, signer)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		url      string
		verifier *tlog.Verifier
		previous []byte
		want     []Kind
	}{
		{name: "an honest archive extending the kept checkpoint", url: honest.URL, verifier: pinned, previous: kept},
		{name: "a server altering one leaf", url: lying.URL, verifier: pinned, previous: kept, want: []Kind{KindCheckpointRoot, KindPreviousCheckpoint}},
		{name: "another key than the pinned one", url: honest.URL, verifier: stranger.Verifier(), want: []Kind{KindServedVerifier, KindCheckpointSignature}},
		{name: "a kept checkpoint of another history", url: honest.URL, verifier: pinned, previous: forked, want: []Kind{KindPreviousCheckpoint}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Served(ctx, ServedOptions{URL: tc.url, Token: auditorToken, Verifier: tc.verifier, PreviousCheckpoint: tc.previous, PreviousSource: "kept", Client: honest.Client()})
			if err != nil {
				t.Fatal(err)
			}
			expectKinds(t, r, tc.want)
			if len(tc.want) == 0 && (r.Checkpoint == nil || r.Counts.Leaves != r.Checkpoint.Size || r.Counts.RecordLeaves != 5 || r.NewestNote == nil) {
				t.Fatalf("an honest run: %+v", r)
			}
			if len(tc.want) == 0 && !strings.Contains(strings.Join(r.Notes, "\n"), "recomputed and proved") {
				t.Fatalf("the previous checkpoint was not proved: %v", r.Notes)
			}
		})
	}

	if _, err := Served(ctx, ServedOptions{URL: honest.URL, Token: "wrong-token", Verifier: pinned, Client: honest.Client()}); err == nil {
		t.Fatal("a refused request must stop verification with an error")
	}
}
