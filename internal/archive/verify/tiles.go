package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

// The log in the C2SP tlog-tiles layout (see internal/archive/api/tiles.go).
// Auditors may check it with tools that share no code with the archive; a
// vigil verify run recomputes the same tiles from the leaves, so a server
// whose tiles tell another story than its leaves or its checkpoint is
// caught here too.

// Kinds of tile problems.
const (
	// KindTiles: the tlog-tiles recomputed from the stored leaves do not
	// rebuild the signed checkpoint's root, or a leaf is too large for an
	// entry bundle, so tlog-tiles clients could not fetch it.
	KindTiles Kind = "tiles"
	// KindServedTiles: the archive's tlog-tiles endpoints serve a
	// checkpoint, hash tile or entry bundle that disagrees with the signed
	// log, or withhold one the checkpoint implies.
	KindServedTiles Kind = "served-tiles"
)

// tlogPrefix is where the archive serves its log as tlog-tiles.
const tlogPrefix = "/v1/log/tlog/"

// maxTileBody bounds one tile answer: the largest entry bundle, 256 entries
// of 65,535 bytes with their 2-byte lengths.
const maxTileBody = tlog.TileWidth * (2 + tlog.MaxEntrySize)

// maxTileProblems is how many differing tiles are reported one by one; a
// server that serves another tree entirely would otherwise bury the report.
const maxTileProblems = 10

// checkDataDirTiles recomputes from the leaf bodies the hash tiles and entry
// bundles the archive serves for its newest verified checkpoint, and checks
// that they rebuild its root. The data folder stores no tiles (the archive
// cuts them from its tree on request), so this shows what any tlog-tiles
// client will receive: tiles that reproduce the signed root, and bundles
// that can carry every leaf.
func checkDataDirTiles(r *Report, verifier *tlog.Verifier, log *logView) {
	if r.NewestNote == nil {
		return
	}
	cp, _, err := tlog.OpenCheckpoint(r.NewestNote, verifier.Name(), []*tlog.Verifier{verifier})
	if err != nil {
		// It verified moments ago; there is nothing to add.
		return
	}
	if recomputeTiles(r, cp, log) {
		r.note("tlog-tiles: the hash tiles and entry bundles recomputed from the leaves rebuild the root of the newest checkpoint (size %d)", cp.Size)
	}
}

// recomputeTiles builds the tiles of the tree at cp.Size from the leaf
// bodies, reads the root back through them and encodes every entry bundle.
// The root is rebuilt by the tile reader auditors' tools use, not by the
// tree, so a tile cut wrongly would show here.
func recomputeTiles(r *Report, cp tlog.Checkpoint, log *logView) bool {
	where := fmt.Sprintf("tlog-tiles at size %d", cp.Size)
	if cp.Size > log.tree.Size() {
		// checkRootAt has reported the missing leaves already.
		return false
	}
	ok := true
	for _, b := range tlog.EntryBundles(cp.Size) {
		if _, err := bundleFromLeaves(b, log); err != nil {
			r.problem(KindTiles, b.String(), "%v: tlog-tiles clients cannot fetch this part of the log", err)
			ok = false
		}
	}
	reader := tlog.TileHashReader(cp.Size, func(t tlog.Tile) ([]byte, error) {
		return tlog.HashTile(t, cp.Size, log.tree.HashAt)
	})
	root, err := tlog.TreeHash(cp.Size, reader)
	switch {
	case err != nil:
		r.problem(KindTiles, where, "cannot rebuild the root from the recomputed tiles: %v", err)
		return false
	case root != cp.Root:
		r.problem(KindTiles, where, "the recomputed tiles hash to %s, the checkpoint signs %s", root, cp.Root)
		return false
	}
	return ok
}

// bundleFromLeaves encodes entry bundle b from the leaf bodies.
func bundleFromLeaves(b tlog.Tile, log *logView) ([]byte, error) {
	start := b.Index * tlog.TileWidth
	bodies := make([][]byte, b.Width)
	for i := range bodies {
		bodies[i] = log.leaves[start+uint64(i)].Body
	}
	return tlog.EntryBundle(bodies)
}

// checkServedTiles checks the archive's tlog-tiles endpoints against the
// signed log: the tlog checkpoint verifies with the pinned key and agrees
// with /v1/log/checkpoint (cp), the served hash tiles rebuild its root, and,
// when the served leaves matched cp (leavesOK), every hash tile and entry
// bundle of the tree at cp.Size is byte for byte the one recomputed from
// those leaves. The error is for what stops verification: the server
// refusing or failing a request (a 404 for a tile is a problem instead).
func checkServedTiles(ctx context.Context, c *servedClient, r *Report, verifier *tlog.Verifier, cp tlog.Checkpoint, log *logView, leavesOK bool) error {
	const cpPath = tlogPrefix + "checkpoint"
	note, status, err := c.getStatus(ctx, cpPath)
	if err != nil {
		return err
	}
	if status == http.StatusNotFound {
		r.note("the archive does not serve its log as tlog-tiles (%s answers 404): tiles not checked", cpPath)
		return nil
	}
	tcp, _, err := tlog.OpenCheckpoint(note, verifier.Name(), []*tlog.Verifier{verifier})
	if err != nil {
		r.problem(KindCheckpointSignature, cpPath, "does not verify with the pinned key: %v", err)
		return nil
	}
	f := &tileFetcher{c: c}

	// Only what a tlog-tiles client has: the checkpoint and the tiles.
	reader := tlog.TileHashReader(tcp.Size, func(t tlog.Tile) ([]byte, error) { return f.fetch(ctx, t) })
	root, err := tlog.TreeHash(tcp.Size, reader)
	if f.fatal != nil {
		return f.fatal
	}
	switch {
	case err != nil:
		r.problem(KindServedTiles, cpPath, "cannot rebuild the root at size %d from the served tiles: %v", tcp.Size, err)
	case root != tcp.Root:
		r.problem(KindServedTiles, cpPath, "the served tiles hash to %s at size %d, the checkpoint signs %s", root, tcp.Size, tcp.Root)
	default:
		checkTlogCheckpointAgrees(ctx, r, f, reader, tcp, cp, log, leavesOK)
		if f.fatal != nil {
			return f.fatal
		}
	}

	if !leavesOK {
		r.note("the served tiles were not compared with the served leaves, which do not match the checkpoint")
		return nil
	}
	return compareServedTiles(ctx, r, f, cp, log)
}

// checkTlogCheckpointAgrees checks that the tlog-tiles checkpoint and
// /v1/log/checkpoint describe one history. Both are signed, so two that
// disagree are a split view: proof the log showed different callers
// different trees.
func checkTlogCheckpointAgrees(ctx context.Context, r *Report, f *tileFetcher, reader tlog.HashAtFunc, tcp, cp tlog.Checkpoint, log *logView, leavesOK bool) {
	where := tlogPrefix + "checkpoint"
	switch {
	case tcp.Size == cp.Size:
		if tcp.Root != cp.Root {
			r.problem(KindServedTiles, where, "signs root %s at size %d, /v1/log/checkpoint signs %s at the same size", tcp.Root, tcp.Size, cp.Root)
		}
	case tcp.Size > cp.Size:
		// The log grew between the two requests: the tiles, which
		// rebuilt the newer root, must also rebuild the older one.
		old, err := tlog.TreeHash(cp.Size, reader)
		if f.fatal != nil {
			return
		}
		if err != nil || old != cp.Root {
			r.problem(KindServedTiles, where, "its tiles do not extend /v1/log/checkpoint: root at size %d is %s (%v), /v1/log/checkpoint signs %s",
				cp.Size, old, err, cp.Root)
		}
	case leavesOK:
		if old, err := log.tree.RootAt(tcp.Size); err != nil || old != tcp.Root {
			r.problem(KindServedTiles, where, "signs root %s at size %d, but the served leaves hash to %s there", tcp.Root, tcp.Size, old)
		}
	}
}

// compareServedTiles fetches every hash tile and entry bundle of the tree
// at cp.Size and compares each with the one recomputed from the leaves.
func compareServedTiles(ctx context.Context, r *Report, f *tileFetcher, cp tlog.Checkpoint, log *logView) error {
	hashTiles, bundles := tlog.HashTiles(cp.Size), tlog.EntryBundles(cp.Size)
	differ := 0
	report := func(t tlog.Tile, format string, args ...any) {
		differ++
		if differ <= maxTileProblems {
			r.problem(KindServedTiles, tlogPrefix+t.String(), format, args...)
		}
	}
	for _, t := range hashTiles {
		want, err := tlog.HashTile(t, cp.Size, log.tree.HashAt)
		if err != nil {
			return fmt.Errorf("while recomputing %s: %w", t, err)
		}
		compareTile(ctx, f, t, want, report)
		if f.fatal != nil {
			return f.fatal
		}
	}
	for _, b := range bundles {
		want, err := bundleFromLeaves(b, log)
		if err != nil {
			report(b, "cannot be recomputed from the leaves: %v", err)
			continue
		}
		compareTile(ctx, f, b, want, report)
		if f.fatal != nil {
			return f.fatal
		}
	}
	if differ > maxTileProblems {
		r.problem(KindServedTiles, tlogPrefix+"tile/", "%d more tiles differ from the leaves or are not served", differ-maxTileProblems)
	}
	if differ == 0 {
		r.note("tlog-tiles: the %d hash tiles and %d entry bundles served for size %d are the ones recomputed from the leaves",
			len(hashTiles), len(bundles), cp.Size)
	}
	return nil
}

// compareTile fetches t and reports it if it is withheld or differs.
func compareTile(ctx context.Context, f *tileFetcher, t tlog.Tile, want []byte, report func(tlog.Tile, string, ...any)) {
	got, err := f.fetch(ctx, t)
	switch {
	case f.fatal != nil:
	case err != nil:
		report(t, "%v", err)
	case !bytes.Equal(got, want):
		report(t, "%s", describeTileDiff(t, got, want))
	}
}

// describeTileDiff says where a served tile first differs from the
// recomputed one, in the units an auditor can look up: a leaf index or a
// subtree hash.
func describeTileDiff(t tlog.Tile, got, want []byte) string {
	if t.Entries {
		entries, err := tlog.ParseEntryBundle(t, got)
		if err != nil {
			return fmt.Sprintf("is not a well-formed entry bundle: %v", err)
		}
		wantEntries, _ := tlog.ParseEntryBundle(t, want)
		for i := range entries {
			if !bytes.Equal(entries[i], wantEntries[i]) {
				return fmt.Sprintf("leaf %d is served as %q, the leaves say %q", t.Index*tlog.TileWidth+uint64(i), entries[i], wantEntries[i])
			}
		}
		return "differs from the leaves"
	}
	hashes, err := tlog.ParseHashTile(t, got)
	if err != nil {
		return fmt.Sprintf("is not a well-formed hash tile: %v", err)
	}
	wantHashes, _ := tlog.ParseHashTile(t, want)
	for i := range hashes {
		if hashes[i] != wantHashes[i] {
			return fmt.Sprintf("hash %d is %s, the leaves give %s", i, hashes[i], wantHashes[i])
		}
	}
	return "differs from the leaves"
}

// tileFetcher fetches tlog-tiles resources. A 404 is returned as an error
// for the caller to report; anything else that is not a 200 is fatal, kept
// in fatal, because it says nothing about the log (a refused token, an
// overloaded server) and every later request would fail the same way.
type tileFetcher struct {
	c     *servedClient
	fatal error
}

var errTileWithheld = errors.New("not served (404), though the checkpoint implies it")

func (f *tileFetcher) fetch(ctx context.Context, t tlog.Tile) ([]byte, error) {
	p, err := t.Path()
	if err != nil {
		return nil, err
	}
	body, status, err := f.c.getStatus(ctx, tlogPrefix+p)
	switch {
	case err != nil:
		f.fatal = err
		return nil, err
	case status == http.StatusNotFound:
		return nil, errTileWithheld
	}
	return body, nil
}

// getStatus fetches a path, returning a 200's or a 404's body with its
// status; any other answer, or none, is an error.
func (c *servedClient) getStatus(ctx context.Context, path string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("while preparing GET %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("while fetching %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTileBody+1))
	if err != nil {
		return nil, 0, fmt.Errorf("while reading %s: %w", path, err)
	}
	switch {
	case resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound:
		return nil, 0, fmt.Errorf("GET %s: %s: %s", path, resp.Status, bytes.TrimSpace(body))
	case len(body) > maxTileBody:
		return nil, 0, fmt.Errorf("GET %s: the answer is larger than any tile (%d bytes)", path, maxTileBody)
	}
	return body, resp.StatusCode, nil
}
