package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

// The log in the C2SP tlog-tiles layout (https://c2sp.org/tlog-tiles), so
// auditors can check it with standard transparency-log tools. The log's
// tlog-tiles prefix is <base URL>/v1/log/tlog. Same access rule as the other
// log endpoints.
//
//	GET /v1/log/tlog/checkpoint                      the newest signed checkpoint (as /v1/log/checkpoint)
//	GET /v1/log/tlog/tile/<L>/<N>[.p/<W>]            hash tiles
//	GET /v1/log/tlog/tile/entries/<N>[.p/<W>]        entry bundles of leaves' canonical bytes
//
// Tiles are cut from the tree at the newest checkpoint's size: every byte
// served is committed to by a signed checkpoint, and a tile the checkpoint
// does not yet determine is "not found", as a static tlog-tiles server
// that has not written it yet would answer.

// Caching. Full tiles never change, so clients may keep them forever.
// "private" rather than "public": these answers are for authorized auditors
// only (entry bundles carry actors and accounts), and "public" would let a
// shared cache between the archive and its callers hand them to anyone
// (RFC 9111 §3.5). Partial tiles may be superseded by full ones, and the
// checkpoint moves every second, so those are cached only briefly.
const (
	cacheFullTile    = "private, max-age=31536000, immutable"
	cachePartialTile = "private, max-age=60"
	cacheCheckpoint  = "private, max-age=5"
)

func (s *Server) tlogCheckpoint(w http.ResponseWriter, r *http.Request, id Identity) {
	l, ok := s.logOf(w, r, id)
	if !ok {
		return
	}
	note, err := l.Checkpoint(r.Context())
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", cacheCheckpoint)
	writeText(w, "text/plain; charset=utf-8", note)
}

func (s *Server) tlogTile(w http.ResponseWriter, r *http.Request, id Identity) {
	l, ok := s.logOf(w, r, id)
	if !ok {
		return
	}
	tile, err := tlog.ParseTilePath("tile/" + r.PathValue("path"))
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	ctx := r.Context()
	cp, err := newestCheckpoint(ctx, l)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	if !tile.InTree(cp.Size) {
		s.refuse(w, r, http.StatusNotFound, "not_found", fmt.Sprintf("%s is not in the tree of the newest checkpoint (size %d)", tile, cp.Size))
		return
	}
	var data []byte
	if tile.Entries {
		data, err = entryBundle(ctx, l, tile)
	} else {
		data, err = hashTile(ctx, l, tile, cp.Size)
	}
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	if tile.Full() {
		w.Header().Set("Cache-Control", cacheFullTile)
	} else {
		w.Header().Set("Cache-Control", cachePartialTile)
	}
	writeText(w, "application/octet-stream", data)
}

// newestCheckpoint returns the newest checkpoint, checked with the log's own
// key: tiles are served only under a checkpoint that verifies, so an
// auditor never receives tiles no valid signature covers.
func newestCheckpoint(ctx context.Context, l store.Log) (tlog.Checkpoint, error) {
	note, err := l.Checkpoint(ctx)
	if err != nil {
		return tlog.Checkpoint{}, err
	}
	cp, _, err := tlog.OpenCheckpoint(note, l.Origin(), []*tlog.Verifier{l.Verifier()})
	if err != nil {
		return tlog.Checkpoint{}, fmt.Errorf("the newest checkpoint does not verify with the log's own key: %w", err)
	}
	return cp, nil
}

func hashTile(ctx context.Context, l store.Log, tile tlog.Tile, size uint64) ([]byte, error) {
	hashAt, err := l.TreeHashes(ctx, size)
	if err != nil {
		return nil, fmt.Errorf("while reading the tree for %s: %w", tile, err)
	}
	data, err := tlog.HashTile(tile, size, hashAt)
	if err != nil {
		return nil, fmt.Errorf("while building %s: %w", tile, err)
	}
	return data, nil
}

func entryBundle(ctx context.Context, l store.Log, tile tlog.Tile) ([]byte, error) {
	start := tile.Index * tlog.TileWidth
	leaves, err := l.Leaves(ctx, start, int(tile.Width))
	if err != nil {
		return nil, fmt.Errorf("while reading the leaves of %s: %w", tile, err)
	}
	if len(leaves) < int(tile.Width) {
		return nil, fmt.Errorf("the log returned %d leaves from %d for %s, want %d", len(leaves), start, tile, tile.Width)
	}
	data, err := tlog.EntryBundle(leaves[:tile.Width])
	if err != nil {
		return nil, fmt.Errorf("while building %s: %w", tile, err)
	}
	return data, nil
}
