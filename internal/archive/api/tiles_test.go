package api

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	xtlog "golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

// get fetches a path and returns the whole response, headers included.
func (f *fixture) get(path, token string) (*http.Response, []byte) {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp, body
}

// tileURL is where the archive serves a tile.
func tileURL(t *testing.T, tile tlog.Tile) string {
	t.Helper()
	p, err := tile.Path()
	if err != nil {
		t.Fatal(err)
	}
	return "/v1/log/tlog/" + p
}

// httpTiles lets x/mod's tile client fetch tiles from the archive: its
// paths carry the tile height ("tile/8/0/000"), which tlog-tiles paths do
// not, so the height is dropped.
type httpTiles struct {
	f     *fixture
	token string
	reads int
}

func (h *httpTiles) Height() int { return tlog.TileHeight }

func (h *httpTiles) ReadTiles(tiles []xtlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		path := "/v1/log/tlog/" + strings.Replace(t.Path(), "tile/8/", "tile/", 1)
		resp, body := h.f.get(path, h.token)
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		out[i] = body
		h.reads++
	}
	return out, nil
}

func (h *httpTiles) SaveTiles([]xtlog.Tile, [][]byte) {}

// TestTlogTiles plays an auditor using the tlog-tiles endpoints alone: the
// checkpoint verifies with golang.org/x/mod/sumdb/note, every hash tile and
// entry bundle the checkpoint implies is served, the tiles rebuild the
// signed root (with our reader and with x/mod's, which authenticates each
// tile), and the bundles carry the leaves the level-0 tiles hash.
func TestTlogTiles(t *testing.T) {
	const auditor = "auditor@example.com"
	f := newFixture(t, func(o *Options) {
		o.Authenticator = NewStaticTokens(map[string]string{connectorToken: "system:serviceaccount:desk:trader-li-connector",
			reviewerToken: auditor, adminToken: admin})
		o.Authorizer = grants{auditor + " get audit ": true}
	})
	if code, _, body := f.call("POST", ingestPath, connectorToken, "application/x-ndjson", batch(t, 0, 700, "tiles")); code != 200 {
		t.Fatalf("ingest = %d %s", code, body)
	}

	_, vkey := f.get("/v1/log/verifier", reviewerToken)
	verifier, err := tlog.ParseVerifierKey(string(bytes.TrimSpace(vkey)))
	if err != nil {
		t.Fatal(err)
	}
	resp, signed := f.get("/v1/log/tlog/checkpoint", reviewerToken)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "max-age=5") {
		t.Fatalf("tlog checkpoint = %s %v %s", resp.Status, resp.Header, signed)
	}
	if _, plain := f.get("/v1/log/checkpoint", reviewerToken); !bytes.Equal(plain, signed) {
		t.Fatalf("the tlog checkpoint differs from /v1/log/checkpoint:\n%s\n%s", signed, plain)
	}
	cp, _, err := tlog.OpenCheckpoint(signed, f.store.(store.Log).Origin(), []*tlog.Verifier{verifier})
	if err != nil {
		t.Fatal(err)
	}
	// The Go reference implementation of signed notes accepts it too.
	xv, err := note.NewVerifier(string(bytes.TrimSpace(vkey)))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := note.Open(signed, note.VerifierList(xv)); err != nil || !strings.HasPrefix(n.Text, cp.Origin+"\n") {
		t.Fatalf("x/mod note.Open: %v", err)
	}
	if cp.Size < 700 || cp.Size%tlog.TileWidth == 0 {
		t.Fatalf("checkpoint size %d: the test wants a partial level-0 tile", cp.Size)
	}

	served := map[tlog.Tile][]byte{}
	for _, tile := range tlog.HashTiles(cp.Size) {
		resp, body := f.get(tileURL(t, tile), reviewerToken)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/octet-stream" {
			t.Fatalf("%s = %s %s", tile, resp.Status, body)
		}
		want := cachePartialTile
		if tile.Full() {
			want = cacheFullTile
		}
		if got := resp.Header.Get("Cache-Control"); got != want {
			t.Errorf("%s Cache-Control %q, want %q", tile, got, want)
		}
		served[tile] = body
	}
	root, err := tlog.TreeHash(cp.Size, tlog.TileHashReader(cp.Size, func(tile tlog.Tile) ([]byte, error) {
		b, ok := served[tile]
		if !ok {
			return nil, fmt.Errorf("%s was not served", tile)
		}
		return b, nil
	}))
	if err != nil || root != cp.Root {
		t.Fatalf("the served tiles hash to %s, %v; the checkpoint signs %s", root, err, cp.Root)
	}

	// x/mod's tile client checks every tile it reads against the root.
	src := &httpTiles{f: f, token: reviewerToken}
	xr := xtlog.TileHashReader(xtlog.Tree{N: int64(cp.Size), Hash: xtlog.Hash(cp.Root)}, src)
	if got, err := xtlog.TreeHash(int64(cp.Size), xr); err != nil || got != xtlog.Hash(cp.Root) {
		t.Fatalf("x/mod root from the served tiles = %v, %v", got, err)
	}

	var leafHashes []tlog.Hash
	for _, bundle := range tlog.EntryBundles(cp.Size) {
		resp, body := f.get(tileURL(t, bundle), reviewerToken)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/octet-stream" {
			t.Fatalf("%s = %s %s", bundle, resp.Status, body)
		}
		entries, err := tlog.ParseEntryBundle(bundle, body)
		if err != nil {
			t.Fatal(err)
		}
		level0, err := tlog.ParseHashTile(tlog.Tile{Index: bundle.Index, Width: bundle.Width}, served[tlog.Tile{Index: bundle.Index, Width: bundle.Width}])
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range entries {
			h := tlog.LeafHash(e)
			if h != level0[i] {
				t.Fatalf("%s entry %d does not hash to its level-0 tile's hash", bundle, i)
			}
			leafHashes = append(leafHashes, h)
		}
		if bundle.Index == 0 {
			_, page := f.get("/v1/log/leaves?start=0&count=1", reviewerToken)
			if !bytes.Equal(append(entries[0], '\n'), page) {
				t.Fatalf("bundle entry 0 %q differs from /v1/log/leaves %q", entries[0], page)
			}
		}
	}
	if tlog.RootHash(leafHashes) != cp.Root {
		t.Fatal("the entry bundles do not hash to the checkpoint's root")
	}
	// x/mod proves a leaf's inclusion from the served tiles.
	last := int64(cp.Size - 1)
	p, err := xtlog.ProveRecord(int64(cp.Size), last, xr)
	if err != nil {
		t.Fatal(err)
	}
	if err := xtlog.CheckRecord(p, int64(cp.Size), xtlog.Hash(cp.Root), last, xtlog.Hash(leafHashes[last])); err != nil {
		t.Fatalf("x/mod inclusion proof from tiles: %v", err)
	}

	// The log grows: the partial tile of the old checkpoint is still
	// served, unchanged, and x/mod proves the old tree consistent with
	// the new one from the new tiles.
	partial := tlog.Tile{Index: cp.Size / tlog.TileWidth, Width: uint16(cp.Size % tlog.TileWidth)}
	if code, _, _ := f.call("POST", ingestPath, connectorToken, "application/x-ndjson", batch(t, 700, 5, "later")); code != 200 {
		t.Fatal("second ingest failed")
	}
	_, signed2 := f.get("/v1/log/tlog/checkpoint", reviewerToken)
	cp2, _, err := tlog.OpenCheckpoint(signed2, cp.Origin, []*tlog.Verifier{verifier})
	if err != nil || cp2.Size <= cp.Size {
		t.Fatalf("new checkpoint %+v, %v", cp2, err)
	}
	if resp, body := f.get(tileURL(t, partial), reviewerToken); resp.StatusCode != 200 || !bytes.Equal(body, served[partial]) {
		t.Fatalf("the old partial tile %s is no longer served as it was: %s", partial, resp.Status)
	}
	xr2 := xtlog.TileHashReader(xtlog.Tree{N: int64(cp2.Size), Hash: xtlog.Hash(cp2.Root)}, src)
	tp, err := xtlog.ProveTree(int64(cp2.Size), int64(cp.Size), xr2)
	if err != nil {
		t.Fatal(err)
	}
	if err := xtlog.CheckTree(tp, int64(cp2.Size), xtlog.Hash(cp2.Root), int64(cp.Size), xtlog.Hash(cp.Root)); err != nil {
		t.Fatalf("x/mod consistency proof from tiles: %v", err)
	}

	last0 := cp2.Size / tlog.TileWidth
	w := cp2.Size % tlog.TileWidth
	tilePath := func(tile tlog.Tile) string { return tileURL(t, tile) }
	for path, want := range map[string]struct {
		status int
		reason string
	}{
		// Beyond the newest checkpoint.
		tilePath(tlog.Tile{Index: last0, Width: tlog.TileWidth}):                    {404, "not_found"},
		tilePath(tlog.Tile{Index: last0, Width: uint16(w + 1)}):                     {404, "not_found"},
		tilePath(tlog.Tile{Index: last0 + 1, Width: 1}):                             {404, "not_found"},
		tilePath(tlog.Tile{Level: 1, Width: tlog.TileWidth}):                        {404, "not_found"},
		tilePath(tlog.Tile{Level: 1, Width: uint16(last0 + 1)}):                     {404, "not_found"},
		tilePath(tlog.Tile{Level: 2, Width: 1}):                                     {404, "not_found"},
		tilePath(tlog.Tile{Index: last0, Width: tlog.TileWidth, Entries: true}):     {404, "not_found"},
		tilePath(tlog.Tile{Level: 7, Index: 1 << 40, Width: tlog.TileWidth}):        {404, "not_found"},
		tilePath(tlog.Tile{Index: 1<<64 - 1, Width: tlog.TileWidth, Entries: true}): {404, "not_found"},
		tilePath(tlog.Tile{Level: 1, Width: uint16(last0)}):                         {200, ""},
		tilePath(tlog.Tile{Index: last0, Width: 1, Entries: true}):                  {200, ""},
		// Not canonical tlog-tiles paths.
		"/v1/log/tlog/tile/":                                    {400, "invalid"},
		"/v1/log/tlog/tile/0/1":                                 {400, "invalid"},
		"/v1/log/tlog/tile/0/x000/001":                          {400, "invalid"},
		"/v1/log/tlog/tile/0/001/002":                           {400, "invalid"},
		"/v1/log/tlog/tile/0/000.p/256":                         {400, "invalid"},
		"/v1/log/tlog/tile/0/000.p/0":                           {400, "invalid"},
		"/v1/log/tlog/tile/00/000":                              {400, "invalid"},
		"/v1/log/tlog/tile/64/000":                              {400, "invalid"},
		"/v1/log/tlog/tile/8/0/000":                             {400, "invalid"},
		"/v1/log/tlog/tile/data/000":                            {400, "invalid"},
		"/v1/log/tlog/tile/entries/000.p/01":                    {400, "invalid"},
		"/v1/log/tlog/tile/0/x018/x446/x744/x073/x709/x551/616": {400, "invalid"},
	} {
		resp, body := f.get(path, reviewerToken)
		if resp.StatusCode != want.status {
			t.Errorf("%s = %s %s, want %d", path, resp.Status, body, want.status)
			continue
		}
		if want.reason != "" && !strings.Contains(string(body), `"reason":"`+want.reason+`"`) {
			t.Errorf("%s = %s, want reason %s", path, body, want.reason)
		}
	}
}

func TestTlogTilesNeedTheLogPermission(t *testing.T) {
	f := newFixture(t)
	if code, _, _ := f.call("POST", ingestPath, connectorToken, "application/x-ndjson", batch(t, 0, 3, "x")); code != 200 {
		t.Fatal("ingest failed")
	}
	for _, path := range []string{"/v1/log/tlog/checkpoint", "/v1/log/tlog/tile/0/000.p/1", "/v1/log/tlog/tile/entries/000.p/1", "/v1/log/tlog/tile/0/1"} {
		// A connector and a reviewer of messages may not read the log;
		// nobody gets anything without a token. A malformed path is
		// refused as forbidden too: nothing is parsed for a stranger.
		for token, want := range map[string]int{connectorToken: 403, reviewerToken: 403, "": 401} {
			if resp, body := f.get(path, token); resp.StatusCode != want {
				t.Errorf("%s with token %q = %s %s, want %d", path, token, resp.Status, body, want)
			}
		}
		if resp, body := f.get(path, adminToken); resp.StatusCode/100 != 2 && !strings.HasSuffix(path, "/0/1") {
			t.Errorf("%s for the admin = %s %s", path, resp.Status, body)
		}
	}
}

func TestTlogTilesOfAnEmptyLog(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/v1/log/tlog/checkpoint", "/v1/log/tlog/tile/0/000.p/1"} {
		if resp, body := f.get(path, adminToken); resp.StatusCode != 404 {
			t.Errorf("%s of an empty log = %s %s, want 404", path, resp.Status, body)
		}
	}
}
