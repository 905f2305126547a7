package tlog

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	// The Go checksum database's tlog package implements tiles of any
	// height independently of this code; with height 8 its tiles hold the
	// same hashes as C2SP tlog-tiles (only its paths add the height).
	xtlog "golang.org/x/mod/sumdb/tlog"
)

func TestTilePathVectors(t *testing.T) {
	for _, tc := range []struct {
		tile Tile
		path string
	}{
		// The index example of the specification.
		{Tile{Level: 0, Index: 1234067, Width: TileWidth}, "tile/0/x001/x234/067"},
		{Tile{Level: 0, Index: 0, Width: TileWidth}, "tile/0/000"},
		{Tile{Level: 1, Index: 0, Width: 1}, "tile/1/000.p/1"},
		{Tile{Level: 0, Index: 273, Width: 112}, "tile/0/273.p/112"},
		{Tile{Level: 2, Index: 999, Width: 255}, "tile/2/999.p/255"},
		{Tile{Level: 63, Index: 1000, Width: TileWidth}, "tile/63/x001/000"},
		{Tile{Level: 5, Index: 1000000, Width: 7}, "tile/5/x001/x000/000.p/7"},
		{Tile{Index: 12, Width: TileWidth, Entries: true}, "tile/entries/012"},
		{Tile{Index: 1234067, Width: 3, Entries: true}, "tile/entries/x001/x234/067.p/3"},
		{Tile{Level: 0, Index: math.MaxUint64, Width: TileWidth}, "tile/0/x018/x446/x744/x073/x709/x551/615"},
	} {
		got, err := tc.tile.Path()
		if err != nil || got != tc.path {
			t.Errorf("%+v.Path() = %q, %v; want %q", tc.tile, got, err, tc.path)
		}
		parsed, err := ParseTilePath(tc.path)
		if err != nil || parsed != tc.tile {
			t.Errorf("ParseTilePath(%q) = %+v, %v; want %+v", tc.path, parsed, err, tc.tile)
		}
	}
}

func TestParseTilePathRejectsNonCanonical(t *testing.T) {
	for _, path := range []string{
		"", "tile", "tile/", "tile/0", "tile/0/", "/tile/0/000", "tiles/0/000", "Tile/0/000",
		"tile/0/0", "tile/0/00", "tile/0/0000", "tile/0/1", "tile/0/ 00", "tile/0/+01", "tile/0/-01", "tile/0/0x1",
		"tile/0/x000/001",      // a leading zero group
		"tile/0/x000/x001/002", // likewise, deeper
		"tile/0/001/002",       // a group before the last without x
		"tile/0/x001",          // the last group with x
		"tile/0/x001/x002",     // likewise
		"tile/0/xx01/000", "tile/0/X001/000", "tile/0/x01/000", "tile/0/x1a2/000",
		"tile/0/000/", "tile/0//000", "tile//000", "tile/0/x001//000",
		"tile/00/000", "tile/01/000", "tile/64/000", "tile/255/000", "tile/-1/000", "tile/+1/000", "tile/ 1/000", "tile/1 /000", "tile/0x1/000",
		"tile/data/000", "tile/entry/000", "tile/Entries/000", "tile/entries/entries/000",
		"tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/01", "tile/0/000.p/", "tile/0/000.p", "tile/0/000.p/1000",
		"tile/0/000.p/+5", "tile/0/000.p/5x", "tile/0/000.P/5", "tile/0/000.p/5/", "tile/0/000.p/5/000", "tile/0/000.q/5",
		"tile/0/x001.p/5/000", "tile/0/001.p/5/000", "tile/0/.p/5", "tile/entries/000.p/256",
		"tile/0/x018/x446/x744/x073/x709/x551/616",      // 2^64
		"tile/0/x999/x999/x999/x999/x999/x999/999",      // far beyond
		"tile/0/x001/x000/x000/x000/x000/x000/x000/000", // eight groups
	} {
		if tile, err := ParseTilePath(path); err == nil || !errors.Is(err, ErrMalformedTilePath) {
			t.Errorf("ParseTilePath(%q) = %+v, %v; want a malformed-path error", path, tile, err)
		}
	}
}

func TestTilePathRefusesInvalidTiles(t *testing.T) {
	for _, tile := range []Tile{
		{Width: 0}, {Width: TileWidth + 1}, {Level: 64, Width: 1}, {Level: 1, Width: 1, Entries: true},
	} {
		if p, err := tile.Path(); err == nil {
			t.Errorf("%+v.Path() = %q, want an error", tile, p)
		}
		if tile.InTree(math.MaxUint64) {
			t.Errorf("invalid tile %+v is in a tree", tile)
		}
	}
}

// TestTileLayoutSpecExamples checks the tile counts the specification
// spells out for trees of size 70,000 and 256.
func TestTileLayoutSpecExamples(t *testing.T) {
	want70000 := []Tile{{Level: 0, Index: 273, Width: 112}, {Level: 1, Index: 0, Width: TileWidth},
		{Level: 1, Index: 1, Width: 17}, {Level: 2, Index: 0, Width: 1}}
	tiles := HashTiles(70000)
	if len(tiles) != 273+len(want70000) {
		t.Fatalf("%d tiles for size 70000, want %d", len(tiles), 273+len(want70000))
	}
	for i := range 273 {
		if tiles[i] != (Tile{Level: 0, Index: uint64(i), Width: TileWidth}) {
			t.Fatalf("tile %d is %+v", i, tiles[i])
		}
	}
	for i, w := range want70000 {
		if tiles[273+i] != w {
			t.Errorf("tile %d is %+v, want %+v", 273+i, tiles[273+i], w)
		}
	}
	if got := HashTiles(256); len(got) != 2 || got[0] != (Tile{Width: TileWidth}) || got[1] != (Tile{Level: 1, Width: 1}) {
		t.Errorf("tiles of size 256: %+v", got)
	}
	if got := HashTiles(0); len(got) != 0 {
		t.Errorf("an empty tree has tiles: %+v", got)
	}
	if got := EntryBundles(513); len(got) != 3 || got[2] != (Tile{Index: 2, Width: 1, Entries: true}) || !got[1].Full() {
		t.Errorf("bundles of size 513: %+v", got)
	}
}

// xmodLog is the same log kept by golang.org/x/mod/sumdb/tlog: its stored
// hashes, from which it builds tiles and roots by its own algorithms.
type xmodLog struct {
	stored []xtlog.Hash
}

func (x *xmodLog) ReadHashes(indexes []int64) ([]xtlog.Hash, error) {
	out := make([]xtlog.Hash, len(indexes))
	for i, idx := range indexes {
		if idx < 0 || idx >= int64(len(x.stored)) {
			return nil, fmt.Errorf("x/mod asked for stored hash %d of %d", idx, len(x.stored))
		}
		out[i] = x.stored[idx]
	}
	return out, nil
}

// xmodTile converts our tile to x/mod's coordinates at height 8.
func xmodTile(tile Tile) xtlog.Tile {
	return xtlog.Tile{H: TileHeight, L: int(tile.Level), N: int64(tile.Index), W: int(tile.Width)}
}

func ourTile(xt xtlog.Tile) Tile {
	return Tile{Level: uint8(xt.L), Index: uint64(xt.N), Width: uint16(xt.W)}
}

// ourTiles serves our tiles to x/mod's TileHashReader, which authenticates
// every tile it reads against the tree's root before using it.
type ourTiles struct {
	t      *testing.T
	size   uint64
	hashAt HashAtFunc
	reads  int
}

func (o *ourTiles) Height() int { return TileHeight }

func (o *ourTiles) ReadTiles(tiles []xtlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, xt := range tiles {
		data, err := HashTile(ourTile(xt), o.size, o.hashAt)
		if err != nil {
			return nil, err
		}
		out[i] = data
		o.reads++
	}
	return out, nil
}

func (o *ourTiles) SaveTiles([]xtlog.Tile, [][]byte) {}

func leafData(i uint64) []byte { return fmt.Appendf(nil, "leaf %d", i) }

// TestTilesMatchXmod builds one log of 65,539 leaves twice, with our Tree
// and with x/mod's stored hashes, and for each tested size compares the
// list of tiles, their paths, every tile's bytes, the roots, and proofs x/mod
// derives from our tiles.
func TestTilesMatchXmod(t *testing.T) {
	const maxSize = 65536 + 3
	var tree Tree
	x := &xmodLog{}
	for i := range uint64(maxSize) {
		tree.Append(LeafHash(leafData(i)))
		hashes, err := xtlog.StoredHashes(int64(i), leafData(i), x)
		if err != nil {
			t.Fatal(err)
		}
		x.stored = append(x.stored, hashes...)
	}
	for _, size := range []uint64{0, 1, 2, 3, 255, 256, 257, 511, 512, 700, 65535, 65536, maxSize} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			root, err := TreeHash(size, tree.HashAt)
			if err != nil {
				t.Fatal(err)
			}
			xroot, err := xtlog.TreeHash(int64(size), x)
			if err != nil {
				t.Fatal(err)
			}
			if xtlog.Hash(root) != xroot {
				t.Fatalf("root %s, x/mod %s", root, xroot)
			}

			ours := HashTiles(size)
			theirs := xtlog.NewTiles(TileHeight, 0, int64(size))
			if len(ours) != len(theirs) {
				t.Fatalf("%d tiles, x/mod has %d", len(ours), len(theirs))
			}
			xmodBytes := map[Tile][]byte{}
			for i, xt := range theirs {
				tile := ours[i]
				if ourTile(xt) != tile {
					t.Fatalf("tile %d is %+v, x/mod's is %+v", i, tile, xt)
				}
				// x/mod's path is tile/<H>/<L>/<N>[.p/<W>]; without the
				// height it must be ours, character for character.
				path, err := tile.Path()
				if err != nil {
					t.Fatal(err)
				}
				if want := strings.Replace(xt.Path(), "tile/8/", "tile/", 1); path != want {
					t.Errorf("path %q, x/mod's (height dropped) %q", path, want)
				}
				data, err := HashTile(tile, size, tree.HashAt)
				if err != nil {
					t.Fatal(err)
				}
				want, err := xtlog.ReadTileData(xt, x)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(data, want) {
					t.Fatalf("tile %s differs from x/mod's", path)
				}
				xmodBytes[tile] = want
			}

			// Our reader, fed x/mod's tiles, rebuilds the root and a
			// root at a smaller size.
			reads := 0
			reader := TileHashReader(size, func(tile Tile) ([]byte, error) {
				reads++
				b, ok := xmodBytes[tile]
				if !ok {
					return nil, fmt.Errorf("no x/mod tile %+v", tile)
				}
				return b, nil
			})
			if got, err := TreeHash(size, reader); err != nil || got != root {
				t.Fatalf("root from tiles = %s, %v; want %s", got, err, root)
			}
			if reads > len(xmodBytes) || (size > 0 && reads == 0) {
				t.Errorf("%d tile reads for %d tiles", reads, len(xmodBytes))
			}
			if size > 1 {
				old := size/2 + 1
				want, _ := tree.RootAt(old)
				if got, err := TreeHash(old, reader); err != nil || got != want {
					t.Fatalf("root at %d from the tiles of %d = %s, %v; want %s", old, size, got, err, want)
				}
				proof, err := InclusionProof(size-1, size, reader)
				if err != nil {
					t.Fatal(err)
				}
				if err := VerifyInclusion(LeafHash(leafData(size-1)), size-1, size, proof, root); err != nil {
					t.Fatalf("inclusion proof from tiles: %v", err)
				}
			}
			if size == 0 {
				return
			}

			// x/mod, fed our tiles, authenticates each against the root
			// and proves a leaf's inclusion and an older tree's
			// consistency from them.
			src := &ourTiles{t: t, size: size, hashAt: tree.HashAt}
			xr := xtlog.TileHashReader(xtlog.Tree{N: int64(size), Hash: xroot}, src)
			if got, err := xtlog.TreeHash(int64(size), xr); err != nil || got != xroot {
				t.Fatalf("x/mod root from our tiles = %v, %v", got, err)
			}
			for _, i := range []uint64{0, size / 3, size - 1} {
				p, err := xtlog.ProveRecord(int64(size), int64(i), xr)
				if err != nil {
					t.Fatalf("x/mod proving leaf %d from our tiles: %v", i, err)
				}
				if err := xtlog.CheckRecord(p, int64(size), xroot, int64(i), xtlog.RecordHash(leafData(i))); err != nil {
					t.Fatalf("x/mod inclusion of leaf %d: %v", i, err)
				}
			}
			old := size/2 + 1
			oldRoot, _ := tree.RootAt(old)
			p, err := xtlog.ProveTree(int64(size), int64(old), xr)
			if err != nil {
				t.Fatalf("x/mod proving consistency from our tiles: %v", err)
			}
			if err := xtlog.CheckTree(p, int64(size), xroot, int64(old), xtlog.Hash(oldRoot)); err != nil {
				t.Fatalf("x/mod consistency %d→%d: %v", old, size, err)
			}
			if src.reads == 0 {
				t.Error("x/mod read none of our tiles")
			}

			// Entry bundles carry the leaves whose hashes level-0 tiles hold.
			for _, b := range EntryBundles(size) {
				start := b.Index * TileWidth
				var entries [][]byte
				for i := range uint64(b.Width) {
					entries = append(entries, leafData(start+i))
				}
				data, err := EntryBundle(entries)
				if err != nil {
					t.Fatal(err)
				}
				got, err := ParseEntryBundle(b, data)
				if err != nil {
					t.Fatal(err)
				}
				hashes, err := ParseHashTile(Tile{Index: b.Index, Width: b.Width}, xmodBytes[Tile{Index: b.Index, Width: b.Width}])
				if err != nil {
					t.Fatal(err)
				}
				for i, e := range got {
					if LeafHash(e) != hashes[i] {
						t.Fatalf("bundle %s entry %d does not hash to its tile's hash", b, i)
					}
				}
			}
		})
	}
}

func TestPartialTilesArePrefixesAndBounded(t *testing.T) {
	var tree Tree
	for i := range uint64(700) {
		tree.Append(LeafHash(leafData(i)))
	}
	full, err := HashTile(Tile{Index: 1, Width: TileWidth}, 700, tree.HashAt)
	if err != nil {
		t.Fatal(err)
	}
	// A partial tile of an earlier size is the start of the full tile:
	// tiles never change, they only grow.
	for _, w := range []uint16{1, 100, 255} {
		part, err := HashTile(Tile{Index: 1, Width: w}, TileWidth+uint64(w), tree.HashAt)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(part, full[:int(w)*HashSize]) {
			t.Errorf("partial tile of width %d is not a prefix of the full tile", w)
		}
	}
	for _, tc := range []struct {
		tile Tile
		size uint64
		in   bool
	}{
		{Tile{Index: 2, Width: 188}, 700, true},
		{Tile{Index: 2, Width: 100}, 700, true},
		{Tile{Index: 2, Width: 189}, 700, false},
		{Tile{Index: 2, Width: TileWidth}, 700, false},
		{Tile{Index: 3, Width: 1}, 700, false},
		{Tile{Level: 1, Width: 2}, 700, true},
		{Tile{Level: 1, Width: 3}, 700, false},
		{Tile{Level: 2, Width: 1}, 700, false},
		{Tile{Index: 2, Width: 188, Entries: true}, 700, true},
		{Tile{Index: 2, Width: 189, Entries: true}, 700, false},
		{Tile{Width: 1}, 0, false},
		{Tile{Index: math.MaxUint64, Width: TileWidth}, math.MaxUint64, false},
		{Tile{Index: math.MaxUint64 / TileWidth, Width: 255}, math.MaxUint64, true},
		{Tile{Index: math.MaxUint64 / TileWidth, Width: TileWidth}, math.MaxUint64, false},
		{Tile{Level: 7, Width: 255}, math.MaxUint64, true},
		{Tile{Level: 7, Width: TileWidth}, math.MaxUint64, false},
		{Tile{Level: 8, Width: 1}, math.MaxUint64, false},
		{Tile{Level: 63, Width: 1}, math.MaxUint64, false},
	} {
		if got := tc.tile.InTree(tc.size); got != tc.in {
			t.Errorf("%s InTree(%d) = %t, want %t", tc.tile, tc.size, got, tc.in)
		}
		if tc.tile.Entries || tc.size != 700 {
			continue
		}
		_, err := HashTile(tc.tile, tc.size, tree.HashAt)
		if tc.in != (err == nil) || (!tc.in && !errors.Is(err, ErrTileNotInTree)) {
			t.Errorf("HashTile(%s, %d) error %v", tc.tile, tc.size, err)
		}
	}
	if _, err := HashTile(Tile{Width: 1, Entries: true}, 700, tree.HashAt); err == nil {
		t.Error("HashTile built an entry bundle")
	}
	failing := func(uint8, uint64) (Hash, error) { return Hash{}, errors.New("disk on fire") }
	if _, err := HashTile(Tile{Width: 3}, 700, failing); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("a failing hash source: %v", err)
	}
}

func TestEntryBundleEncoding(t *testing.T) {
	data, err := EntryBundle([][]byte{[]byte("a"), {}, []byte("bc")})
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0, 1, 'a', 0, 0, 0, 2, 'b', 'c'}; !bytes.Equal(data, want) {
		t.Fatalf("bundle % x, want % x", data, want)
	}
	max := bytes.Repeat([]byte{7}, MaxEntrySize)
	data, err = EntryBundle([][]byte{max})
	if err != nil || len(data) != MaxEntrySize+2 || data[0] != 0xff || data[1] != 0xff {
		t.Fatalf("largest entry: %d bytes, %v", len(data), err)
	}
	if got, err := ParseEntryBundle(Tile{Width: 1, Entries: true}, data); err != nil || !bytes.Equal(got[0], max) {
		t.Fatalf("largest entry round trip: %v", err)
	}
	if _, err := EntryBundle([][]byte{[]byte("ok"), make([]byte, MaxEntrySize+1)}); !errors.Is(err, ErrEntryTooLarge) {
		t.Errorf("oversized entry: %v", err)
	}
	if _, err := EntryBundle(nil); err == nil {
		t.Error("an empty bundle was encoded")
	}
	if _, err := EntryBundle(make([][]byte, TileWidth+1)); err == nil {
		t.Error("a bundle of 257 entries was encoded")
	}

	bundle := Tile{Width: 3, Entries: true}
	good := []byte{0, 1, 'a', 0, 0, 0, 2, 'b', 'c'}
	for name, tc := range map[string]struct {
		tile Tile
		data []byte
	}{
		"trailing byte":     {bundle, append(append([]byte{}, good...), 0)},
		"truncated body":    {bundle, good[:len(good)-1]},
		"truncated length":  {Tile{Width: 4, Entries: true}, append(append([]byte{}, good...), 0)},
		"fewer entries":     {Tile{Width: 4, Entries: true}, good},
		"more entries":      {Tile{Width: 2, Entries: true}, good},
		"empty":             {Tile{Width: 1, Entries: true}, nil},
		"a hash tile":       {Tile{Width: 3}, good},
		"an invalid bundle": {Tile{Width: 0, Entries: true}, nil},
	} {
		if _, err := ParseEntryBundle(tc.tile, tc.data); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	got, err := ParseEntryBundle(bundle, good)
	if err != nil || len(got) != 3 || string(got[0]) != "a" || len(got[1]) != 0 || string(got[2]) != "bc" {
		t.Fatalf("ParseEntryBundle = %q, %v", got, err)
	}
}

func TestParseHashTileAndReaderErrors(t *testing.T) {
	if _, err := ParseHashTile(Tile{Width: 2}, make([]byte, 2*HashSize-1)); !errors.Is(err, ErrMalformedTile) {
		t.Errorf("short tile: %v", err)
	}
	if _, err := ParseHashTile(Tile{Width: 2}, make([]byte, 3*HashSize)); !errors.Is(err, ErrMalformedTile) {
		t.Errorf("long tile: %v", err)
	}
	if _, err := ParseHashTile(Tile{Width: 2, Entries: true}, make([]byte, 2*HashSize)); err == nil {
		t.Error("an entry bundle parsed as a hash tile")
	}
	short := TileHashReader(300, func(tile Tile) ([]byte, error) { return make([]byte, HashSize), nil })
	if _, err := short(0, 0); !errors.Is(err, ErrMalformedTile) {
		t.Errorf("a reader given a short tile: %v", err)
	}
	reader := TileHashReader(300, func(Tile) ([]byte, error) { return nil, errors.New("gone") })
	if _, err := reader(0, 0); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Errorf("a failing fetch: %v", err)
	}
	for _, c := range []struct {
		level uint8
		index uint64
	}{{0, 300}, {8, 1}, {9, 0}, {64, 0}, {255, 0}} {
		if _, err := reader(c.level, c.index); !errors.Is(err, ErrTileNotInTree) {
			t.Errorf("subtree level %d index %d of size 300: %v", c.level, c.index, err)
		}
	}
}

// FuzzParseTilePath checks that the parser accepts exactly the canonical
// paths: whatever it accepts formats back to the same string, and it agrees
// with x/mod's independent parser on every hash-tile path.
func FuzzParseTilePath(f *testing.F) {
	for _, s := range []string{
		"tile/0/000", "tile/0/x001/x234/067", "tile/1/000.p/1", "tile/entries/x001/000.p/255", "tile/63/999",
		"tile/0/x000/001", "tile/64/000", "tile/0/000.p/256", "tile/0/000.p/0", "tile/entries/000.p/01",
		"tile/0/x018/x446/x744/x073/x709/x551/615", "tile/0/x018/x446/x744/x073/x709/x551/616", "tile/data/000",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		tile, err := ParseTilePath(path)
		if err != nil {
			if !errors.Is(err, ErrMalformedTilePath) {
				t.Fatalf("ParseTilePath(%q) error %v does not wrap ErrMalformedTilePath", path, err)
			}
		} else {
			back, err := tile.Path()
			if err != nil || back != path {
				t.Fatalf("ParseTilePath(%q) = %+v, which formats as %q, %v", path, tile, back, err)
			}
		}
		rest, ok := strings.CutPrefix(path, "tile/")
		if !ok || strings.HasPrefix(rest, "entries/") || strings.HasPrefix(rest, "data/") {
			return
		}
		xt, xerr := xtlog.ParseTilePath("tile/8/" + rest)
		switch {
		case xerr == nil && xt.H == TileHeight && xt.L >= 0 && xt.L <= MaxTileLevel:
			if err != nil {
				t.Fatalf("x/mod accepts %q as %+v; we refuse it: %v", path, xt, err)
			}
			if xmodTile(tile) != xt {
				t.Fatalf("%q: we parse %+v, x/mod %+v", path, tile, xt)
			}
		case err == nil && tile.Index <= math.MaxInt64:
			// x/mod keeps indexes in an int64; within that range it must
			// accept what we accept.
			t.Fatalf("we accept %q as %+v; x/mod refuses it: %v", path, tile, xerr)
		}
	})
}
