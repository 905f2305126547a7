package verify

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/archive/api"
	"github.com/vigil-operator/vigil/internal/archive/store/sqlite"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
	"github.com/vigil-operator/vigil/internal/capture"
)

// rewrite serves the archive but passes the answer to one path through
// change, as a compromised server or proxy could.
func rewrite(next http.Handler, path string, change func(body []byte) (int, []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		code, body := rec.Code, rec.Body.Bytes()
		if code == http.StatusOK {
			code, body = change(body)
		}
		w.WriteHeader(code)
		_, _ = w.Write(body)
	})
}

// flipLast changes the last byte of an answer.
func flipLast(body []byte) (int, []byte) {
	b := bytes.Clone(body)
	b[len(b)-1] ^= 0x01
	return http.StatusOK, b
}

// TestServedTiles serves a log of 301 leaves (a full and a partial level-0
// tile, a level-1 tile) honestly and through servers that lie about one
// tlog-tiles resource each, and checks each lie is reported as what it is.
func TestServedTiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, dir, sqlite.Options{Logger: logr.Discard(), CheckpointInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	var next int
	var mu sync.Mutex
	ingest := func(n int) {
		mu.Lock()
		defer mu.Unlock()
		envs := make([]capture.Envelope, n)
		for i := range envs {
			envs[i] = storetest.Envelope(fmt.Sprintf("m-%d", next), time.Now(), fmt.Sprintf("message %d", next), next%2)
			next++
		}
		if _, err := st.Ingest(ctx, alice, "Alice", "connector", envs); err != nil {
			t.Error(err)
		}
	}
	ingest(300)
	server, err := api.NewServer(api.Options{Store: st, Authenticator: api.NewStaticTokens(map[string]string{auditorToken: "auditor@example.com"}),
		Authorizer: auditorOnly{}, Logger: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	honest := server.Handler()
	pinned := st.Verifier()
	signer := signerOf(t, dir)
	stranger, err := tlog.GenerateSigner(sqlite.DefaultLogOrigin, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// resign re-signs the served checkpoint with another root.
	resign := func(with *tlog.Signer) func([]byte) (int, []byte) {
		return func(body []byte) (int, []byte) {
			cp, _, err := tlog.OpenCheckpoint(body, sqlite.DefaultLogOrigin, []*tlog.Verifier{pinned})
			if err != nil {
				t.Error(err)
			}
			cp.Root = tlog.LeafHash([]byte("another history"))
			forged, err := tlog.SignCheckpoint(cp, with)
			if err != nil {
				t.Error(err)
			}
			return http.StatusOK, forged
		}
	}
	const tiles = "/v1/log/tlog/tile/"
	for _, tc := range []struct {
		name    string
		handler http.Handler
		want    []Kind
		mention string
		fails   bool
	}{
		{name: "an honest archive", handler: honest, mention: "3 hash tiles and 2 entry bundles"},
		{name: "a full hash tile altered", handler: rewrite(honest, tiles+"0/000", flipLast), want: []Kind{KindServedTiles}, mention: "hash 255 is"},
		{name: "the partial hash tile altered", handler: rewrite(honest, tiles+"0/001.p/45", flipLast), want: []Kind{KindServedTiles}, mention: "hash 44 is"},
		{name: "the level-1 tile altered", handler: rewrite(honest, tiles+"1/000.p/1", flipLast), want: []Kind{KindServedTiles}, mention: "tiles hash to"},
		{name: "an entry bundle altered", handler: rewrite(honest, tiles+"entries/000", flipLast), want: []Kind{KindServedTiles}, mention: "leaf 255 is served as"},
		{name: "an entry bundle truncated", handler: rewrite(honest, tiles+"entries/001.p/45", func(b []byte) (int, []byte) { return 200, b[:len(b)-3] }),
			want: []Kind{KindServedTiles}, mention: "not a well-formed entry bundle"},
		{name: "a tile withheld", handler: rewrite(honest, tiles+"0/001.p/45", func([]byte) (int, []byte) { return 404, nil }),
			want: []Kind{KindServedTiles}, mention: "not served (404)"},
		{name: "a tlog checkpoint of another history, signed", handler: rewrite(honest, "/v1/log/tlog/checkpoint", resign(signer)),
			want: []Kind{KindServedTiles}, mention: "the checkpoint signs"},
		{name: "a tlog checkpoint signed by another key", handler: rewrite(honest, "/v1/log/tlog/checkpoint", resign(stranger)),
			want: []Kind{KindCheckpointSignature}},
		{name: "an archive without tlog-tiles", handler: rewrite(honest, "/v1/log/tlog/checkpoint", func([]byte) (int, []byte) { return 404, nil }),
			mention: "does not serve its log as tlog-tiles"},
		{name: "altered leaves, honest tiles", handler: liar(honest), want: []Kind{KindCheckpointRoot}, mention: "were not compared"},
		{name: "a failing tile server", handler: rewrite(honest, tiles+"0/000", func([]byte) (int, []byte) { return 500, nil }), fails: true},
		{name: "the log grows between the checkpoints", handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/log/tlog/checkpoint" {
				ingest(3)
			}
			honest.ServeHTTP(w, r)
		}), mention: "tlog-tiles: the"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			r, err := Served(ctx, ServedOptions{URL: srv.URL, Token: auditorToken, Verifier: pinned, Client: srv.Client()})
			if tc.fails {
				if err == nil {
					t.Fatalf("no error; report %+v", r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			expectKinds(t, r, tc.want)
			all := problemsText(r) + strings.Join(r.Notes, "\n")
			if tc.mention != "" && !strings.Contains(all, tc.mention) {
				t.Errorf("nothing mentions %q:\n%s", tc.mention, all)
			}
		})
	}
}

func TestServedTilesReportsAWholeOtherTreeBriefly(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir(), sqlite.Options{Logger: logr.Discard(), CheckpointInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	// 2,800 records and the batch's audit leaf: 12 hash tiles (10 full
	// and a partial at level 0, a partial at level 1) and 11 bundles.
	envs := make([]capture.Envelope, 2800)
	for i := range envs {
		envs[i] = storetest.Envelope(fmt.Sprintf("n-%d", i), time.Now(), "x", 0)
	}
	if _, err := st.Ingest(ctx, alice, "Alice", "connector", envs); err != nil {
		t.Fatal(err)
	}
	server, err := api.NewServer(api.Options{Store: st, Authenticator: api.NewStaticTokens(map[string]string{auditorToken: "auditor@example.com"}),
		Authorizer: auditorOnly{}, Logger: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	// Every tile and bundle altered: the report names the first few and
	// counts the rest.
	h := server.Handler()
	lying := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/v1/log/tlog/tile/") {
			h.ServeHTTP(w, r)
			return
		}
		rewrite(h, r.URL.Path, flipLast).ServeHTTP(w, r)
	})
	srv := httptest.NewServer(lying)
	defer srv.Close()
	r, err := Served(ctx, ServedOptions{URL: srv.URL, Token: auditorToken, Verifier: st.Verifier(), Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	expectKinds(t, r, []Kind{KindServedTiles})
	// The root, the first maxTileProblems tiles, and one count of the rest.
	if n := r.Kinds()[KindServedTiles]; n != 1+maxTileProblems+1 || !strings.Contains(problemsText(r), "13 more tiles differ") {
		t.Fatalf("%d served-tiles problems: %v", n, r.Problems)
	}
}

func TestDataDirRecomputesTiles(t *testing.T) {
	a := buildArchive(t)
	r, err := DataDir(context.Background(), DataDirOptions{Dir: a.dir, Verifier: verifierOf(t, a.dir)})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || !strings.Contains(strings.Join(r.Notes, "\n"), "tlog-tiles: the hash tiles and entry bundles recomputed") {
		t.Fatalf("problems %v, notes %v", r.Problems, r.Notes)
	}
}

func TestRecomputeTiles(t *testing.T) {
	build := func(bodies ...[]byte) (*logView, tlog.Checkpoint) {
		log := &logView{}
		for i, b := range bodies {
			log.leaves = append(log.leaves, logLeaf{Where: fmt.Sprint("leaf ", i), Body: b})
			log.tree.Append(tlog.LeafHash(b))
		}
		return log, tlog.Checkpoint{Origin: "o", Size: log.tree.Size(), Root: log.tree.Root()}
	}
	var bodies [][]byte
	for i := range 600 {
		bodies = append(bodies, fmt.Appendf(nil, "leaf %d", i))
	}
	log, cp := build(bodies...)
	r := &Report{}
	if !recomputeTiles(r, cp, log) || !r.OK() {
		t.Fatalf("an honest log: %v", r.Problems)
	}

	r = &Report{}
	cp.Root[0] ^= 1
	if recomputeTiles(r, cp, log) || r.Kinds()[KindTiles] != 1 {
		t.Fatalf("a checkpoint the tiles do not rebuild: %v", r.Problems)
	}

	// A leaf too large for the uint16 length of an entry bundle: the
	// tree is fine, but tlog-tiles clients could never fetch it.
	log, cp = build([]byte("small"), make([]byte, tlog.MaxEntrySize+1), []byte("small"))
	r = &Report{}
	if recomputeTiles(r, cp, log) || r.Kinds()[KindTiles] != 1 || !strings.Contains(problemsText(r), "tile/entries/000.p/3") {
		t.Fatalf("an oversized leaf: %v", r.Problems)
	}

	r = &Report{}
	cp.Size = 4
	if recomputeTiles(r, cp, log) || !r.OK() {
		t.Fatalf("a checkpoint beyond the leaves is checkRootAt's to report: %v", r.Problems)
	}
}
