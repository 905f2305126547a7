package tlog

// C2SP tlog-tiles (https://c2sp.org/tlog-tiles) publishes a log as static,
// mostly immutable resources instead of a proof API: hash tiles holding the
// Merkle tree's perfect-subtree hashes 8 levels at a time, and entry bundles
// holding the leaves' bytes. Any client that knows the layout can rebuild
// every root and proof from them, which is what lets an auditor check the
// archive with tools that share no code with it.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Geometry of C2SP tlog-tiles. The specification fixes the tile height; it
// is a constant, not a parameter, so no log of ours can drift from it.
const (
	// TileHeight is the number of tree levels one tile spans.
	TileHeight = 8
	// TileWidth is the number of hashes (or entries) in a full tile.
	TileWidth = 1 << TileHeight
	// MaxTileLevel is the highest level a tile path may name.
	MaxTileLevel = 63
	// MaxEntrySize is the largest leaf an entry bundle can carry: entries
	// are prefixed with a big-endian uint16 length.
	MaxEntrySize = math.MaxUint16
)

// maxIndexGroups is the number of 3-digit path elements of the largest
// uint64 index (20 decimal digits).
const maxIndexGroups = 7

// Errors wrapped by the tile functions.
var (
	// ErrMalformedTilePath means a path is not a canonical tlog-tiles path.
	ErrMalformedTilePath = errors.New("tlog: malformed tile path")
	// ErrTileNotInTree means a tile's contents are not (yet) determined by
	// the tree of the given size: serving it would publish hashes no
	// checkpoint commits to.
	ErrTileNotInTree = errors.New("tlog: tile is not in the tree")
	// ErrMalformedTile means tile or entry bundle bytes do not have the
	// shape their coordinates require.
	ErrMalformedTile = errors.New("tlog: malformed tile")
	// ErrEntryTooLarge means a leaf exceeds MaxEntrySize and cannot be put
	// in an entry bundle.
	ErrEntryTooLarge = errors.New("tlog: entry too large for an entry bundle")
)

// Tile names one tlog-tiles resource: a hash tile or an entry bundle.
//
// The n-th hash tile at level l holds, for i < Width, the Merkle Tree Hash
// of leaves [(n·256+i)·256^l, (n·256+i+1)·256^l): leaf hashes at level 0,
// hashes of full tiles of the level below above it. Entry bundle n holds
// the bytes of the leaves level-0 tile n hashes.
type Tile struct {
	// Level is the tile level, 0 to MaxTileLevel; always 0 for bundles.
	Level uint8
	// Index is the tile's position within its level.
	Index uint64
	// Width is the number of hashes or entries, 1 to TileWidth. Anything
	// less than TileWidth is a partial tile.
	Width uint16
	// Entries marks an entry bundle rather than a hash tile.
	Entries bool
}

// Full reports whether the tile has all TileWidth hashes or entries. Full
// tiles never change once published; partial ones are superseded.
func (t Tile) Full() bool { return t.Width == TileWidth }

// check reports why t is not a tile that has a path.
func (t Tile) check() error {
	switch {
	case t.Width == 0 || t.Width > TileWidth:
		return fmt.Errorf("tile width %d is not between 1 and %d", t.Width, TileWidth)
	case t.Level > MaxTileLevel:
		return fmt.Errorf("tile level %d is above %d", t.Level, MaxTileLevel)
	case t.Entries && t.Level != 0:
		return fmt.Errorf("an entry bundle has level %d, not 0", t.Level)
	}
	return nil
}

// Path returns the tile's path below the log's prefix, e.g.
// "tile/0/x001/x234/067", "tile/1/000.p/17" or "tile/entries/012".
func (t Tile) Path() (string, error) {
	if err := t.check(); err != nil {
		return "", fmt.Errorf("tlog: formatting tile path: %w", err)
	}
	var b strings.Builder
	b.WriteString("tile/")
	if t.Entries {
		b.WriteString("entries/")
	} else {
		b.WriteString(strconv.Itoa(int(t.Level)))
		b.WriteByte('/')
	}
	writeTileIndex(&b, t.Index)
	if !t.Full() {
		b.WriteString(".p/")
		b.WriteString(strconv.Itoa(int(t.Width)))
	}
	return b.String(), nil
}

// String is the path, or a description of an invalid tile, for messages.
func (t Tile) String() string {
	p, err := t.Path()
	if err != nil {
		return fmt.Sprintf("invalid tile {level %d, index %d, width %d, entries %t}", t.Level, t.Index, t.Width, t.Entries)
	}
	return p
}

// writeTileIndex writes n as zero-padded 3-digit groups, every group but
// the last prefixed with "x" (1234067 is "x001/x234/067"). The prefix keeps
// a directory "x001" from clashing with a file "001" when a log is served
// from a filesystem.
func writeTileIndex(b *strings.Builder, n uint64) {
	var groups [maxIndexGroups]uint64
	count := 0
	for {
		groups[count] = n % 1000
		count++
		n /= 1000
		if n == 0 {
			break
		}
	}
	for i := count - 1; i >= 0; i-- {
		if i > 0 {
			b.WriteByte('x')
		}
		fmt.Fprintf(b, "%03d", groups[i])
		if i > 0 {
			b.WriteByte('/')
		}
	}
}

// ParseTilePath parses a path of the form "tile/<L>/<N>[.p/<W>]" or
// "tile/entries/<N>[.p/<W>]". It accepts only the canonical encoding, so
// every tile has exactly one path: a level from 0 to 63 and a width from 1
// to 255 in decimal without leading zeros, and an index in 3-digit groups
// with no leading all-zero group. A path that names the same tile in some
// other spelling could slip past caches and access rules keyed on paths.
func ParseTilePath(path string) (Tile, error) {
	bad := func(why string) (Tile, error) {
		return Tile{}, fmt.Errorf("%w %q: %s", ErrMalformedTilePath, path, why)
	}
	rest, ok := strings.CutPrefix(path, "tile/")
	if !ok {
		return bad(`it does not start with "tile/"`)
	}
	elems := strings.Split(rest, "/")
	if len(elems) < 2 {
		return bad("it has no index")
	}
	t := Tile{Width: TileWidth}
	if elems[0] == "entries" {
		t.Entries = true
	} else {
		level, err := parseSmallDecimal(elems[0], MaxTileLevel)
		if err != nil {
			return bad("level: " + err.Error())
		}
		t.Level = uint8(level)
	}
	elems = elems[1:]
	if n := len(elems); n >= 2 {
		if last, partial := strings.CutSuffix(elems[n-2], ".p"); partial {
			w, err := parseSmallDecimal(elems[n-1], TileWidth-1)
			if err != nil {
				return bad("width: " + err.Error())
			}
			if w == 0 {
				return bad("width: a partial tile has at least one hash")
			}
			t.Width = uint16(w)
			elems = elems[:n-1]
			elems[n-2] = last
		}
	}
	index, err := parseTileIndex(elems)
	if err != nil {
		return bad("index: " + err.Error())
	}
	t.Index = index
	return t, nil
}

// parseSmallDecimal parses a canonical decimal number no greater than max
// (at most 3 digits here), rejecting signs, spaces and leading zeros.
func parseSmallDecimal(s string, max uint64) (uint64, error) {
	if s == "" || len(s) > 3 {
		return 0, fmt.Errorf("%q is not a number from 0 to %d", s, max)
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("%q has a leading zero", s)
	}
	var n uint64
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a decimal number", s)
		}
		n = n*10 + uint64(c-'0')
	}
	if n > max {
		return 0, fmt.Errorf("%d is above %d", n, max)
	}
	return n, nil
}

// parseTileIndex decodes the 3-digit groups of a tile index.
func parseTileIndex(groups []string) (uint64, error) {
	if len(groups) > maxIndexGroups {
		return 0, fmt.Errorf("%d path elements is more than a 64-bit index needs", len(groups))
	}
	var n uint64
	for i, g := range groups {
		last := i == len(groups)-1
		if !last {
			var ok bool
			if g, ok = strings.CutPrefix(g, "x"); !ok {
				return 0, fmt.Errorf("element %d (%q) is not the last and does not start with x", i+1, groups[i])
			}
		}
		if len(g) != 3 {
			return 0, fmt.Errorf("element %d (%q) is not three digits", i+1, groups[i])
		}
		var d uint64
		for _, c := range []byte(g) {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("element %d (%q) is not three digits", i+1, groups[i])
			}
			d = d*10 + uint64(c-'0')
		}
		if i == 0 && !last && d == 0 {
			return 0, fmt.Errorf("leading element %q is zero", groups[i])
		}
		hi, lo := bits.Mul64(n, 1000)
		sum, carry := bits.Add64(lo, d, 0)
		if hi != 0 || carry != 0 {
			return 0, errors.New("it does not fit in 64 bits")
		}
		n = sum
	}
	return n, nil
}

// levelSize is the number of hashes at tile level l of a tree of the given
// size: its perfect subtrees of 256^l leaves.
func levelSize(level uint8, size uint64) uint64 {
	shift := uint(level) * TileHeight
	if shift >= 64 {
		return 0
	}
	return size >> shift
}

// InTree reports whether the tree of the given size determines all of the
// tile's contents. Those contents then never change as the log grows, so a
// tile may be served for any checkpoint at least this large.
func (t Tile) InTree(size uint64) bool {
	if t.check() != nil {
		return false
	}
	n := levelSize(t.Level, size)
	// t.Index·256 + Width ≤ n, arranged so that nothing overflows.
	if t.Index > n/TileWidth {
		return false
	}
	return uint64(t.Width) <= n-t.Index*TileWidth
}

// widestTile is the tile at level holding hash index (in that level's
// numbering) with the most hashes a tree of the given size has: the full
// tile, or the partial tile the size ends in. index must be below
// levelSize(level, size).
func widestTile(level uint8, index, size uint64, entries bool) Tile {
	n := levelSize(level, size)
	ti := index / TileWidth
	return Tile{Level: level, Index: ti, Width: uint16(min(TileWidth, n-ti*TileWidth)), Entries: entries}
}

// appendLevel appends the tiles of one level holding n hashes or entries:
// the full ones, then the partial one if n is not a multiple of 256.
func appendLevel(tiles []Tile, level uint8, n uint64, entries bool) []Tile {
	for i := uint64(0); i < n/TileWidth; i++ {
		tiles = append(tiles, Tile{Level: level, Index: i, Width: TileWidth, Entries: entries})
	}
	if w := n % TileWidth; w != 0 {
		tiles = append(tiles, Tile{Level: level, Index: n / TileWidth, Width: uint16(w), Entries: entries})
	}
	return tiles
}

// HashTiles returns every hash tile of the tree of the given size, level
// by level from 0. A tree of size 256 has a full level-0 tile and a level-1
// tile of width 1; an empty tree has none.
func HashTiles(size uint64) []Tile {
	var tiles []Tile
	for level := uint8(0); level <= MaxTileLevel; level++ {
		n := levelSize(level, size)
		if n == 0 {
			break
		}
		tiles = appendLevel(tiles, level, n, false)
	}
	return tiles
}

// EntryBundles returns every entry bundle of the tree of the given size.
func EntryBundles(size uint64) []Tile {
	return appendLevel(nil, 0, size, true)
}

// HashTile returns the bytes of hash tile t of the tree of the given size:
// its hashes concatenated, read through hashAt. It fails with
// ErrTileNotInTree unless the tree determines the whole tile, so the bytes
// are always ones a checkpoint of that size commits to.
func HashTile(t Tile, size uint64, hashAt HashAtFunc) ([]byte, error) {
	if t.Entries {
		return nil, fmt.Errorf("tlog: %s is an entry bundle, not a hash tile", t)
	}
	if !t.InTree(size) {
		return nil, fmt.Errorf("%w: %s in a tree of size %d", ErrTileNotInTree, t, size)
	}
	// InTree bounds the level to 7 for any 64-bit size, so this fits.
	treeLevel := t.Level * TileHeight
	start := t.Index * TileWidth
	data := make([]byte, 0, int(t.Width)*HashSize)
	for i := range uint64(t.Width) {
		h, err := hashAt(treeLevel, start+i)
		if err != nil {
			return nil, fmt.Errorf("tlog: building tile %s: %w", t, err)
		}
		data = append(data, h[:]...)
	}
	return data, nil
}

// ParseHashTile splits hash tile bytes into hashes, checking that there are
// exactly as many as the tile's width.
func ParseHashTile(t Tile, data []byte) ([]Hash, error) {
	if t.Entries {
		return nil, fmt.Errorf("tlog: %s is an entry bundle, not a hash tile", t)
	}
	if err := t.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedTile, err)
	}
	if len(data) != int(t.Width)*HashSize {
		return nil, fmt.Errorf("%w: %s is %d bytes, want %d", ErrMalformedTile, t, len(data), int(t.Width)*HashSize)
	}
	hashes := make([]Hash, t.Width)
	for i := range hashes {
		copy(hashes[i][:], data[i*HashSize:])
	}
	return hashes, nil
}

// EntryBundle encodes leaves as an entry bundle: each one prefixed with its
// length as a big-endian uint16. It takes 1 to 256 entries; the caller
// passes exactly the leaves of one bundle.
func EntryBundle(entries [][]byte) ([]byte, error) {
	if len(entries) == 0 || len(entries) > TileWidth {
		return nil, fmt.Errorf("tlog: an entry bundle holds 1 to %d entries, not %d", TileWidth, len(entries))
	}
	total := 0
	for i, e := range entries {
		if len(e) > MaxEntrySize {
			return nil, fmt.Errorf("%w: entry %d is %d bytes, at most %d fit", ErrEntryTooLarge, i, len(e), MaxEntrySize)
		}
		total += 2 + len(e)
	}
	data := make([]byte, 0, total)
	for _, e := range entries {
		data = binary.BigEndian.AppendUint16(data, uint16(len(e)))
		data = append(data, e...)
	}
	return data, nil
}

// ParseEntryBundle decodes entry bundle t: exactly t.Width length-prefixed
// entries and nothing after them. The entries alias data.
func ParseEntryBundle(t Tile, data []byte) ([][]byte, error) {
	if !t.Entries {
		return nil, fmt.Errorf("tlog: %s is a hash tile, not an entry bundle", t)
	}
	if err := t.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedTile, err)
	}
	entries := make([][]byte, 0, t.Width)
	rest := data
	for len(entries) < int(t.Width) {
		if len(rest) < 2 {
			return nil, fmt.Errorf("%w: %s ends after %d of %d entries", ErrMalformedTile, t, len(entries), t.Width)
		}
		n := int(binary.BigEndian.Uint16(rest))
		rest = rest[2:]
		if len(rest) < n {
			return nil, fmt.Errorf("%w: %s: entry %d claims %d bytes, %d remain", ErrMalformedTile, t, len(entries), n, len(rest))
		}
		entries = append(entries, rest[:n:n])
		rest = rest[n:]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %s has %d bytes after its %d entries", ErrMalformedTile, t, len(rest), t.Width)
	}
	return entries, nil
}

// TileHashReader returns a HashAtFunc for the tree of the given size that
// reads perfect-subtree hashes from that tree's hash tiles, fetched through
// readTile: a hash at a level between two tile levels is rebuilt from the
// hashes of the tile below, as the specification intends. readTile is asked
// for the widest tile the size implies (full, or the partial tile the size
// ends in), and each tile is fetched at most once.
//
// The reader only checks that each tile has the right length. It does not
// authenticate tiles: compare TreeHash(size, reader) with a signed
// checkpoint's root, which every hash the root depends on must reproduce.
// The returned function is not safe for concurrent use.
func TileHashReader(size uint64, readTile func(Tile) ([]byte, error)) HashAtFunc {
	cache := map[Tile][]Hash{}
	return func(level uint8, index uint64) (Hash, error) {
		if level >= 64 || index >= size>>level {
			return Hash{}, fmt.Errorf("%w: no complete subtree at level %d index %d in a tree of size %d",
				ErrTileNotInTree, level, index, size)
		}
		tileLevel, k := level/TileHeight, level%TileHeight
		// The subtree spans 2^k hashes of the tile level below it; the
		// subtree is complete, so they all lie within size.
		first := index << k
		t := widestTile(tileLevel, first, size, false)
		hashes, ok := cache[t]
		if !ok {
			data, err := readTile(t)
			if err != nil {
				return Hash{}, fmt.Errorf("tlog: reading tile %s: %w", t, err)
			}
			if hashes, err = ParseHashTile(t, data); err != nil {
				return Hash{}, err
			}
			cache[t] = hashes
		}
		off := first % TileWidth
		// 2^k hashes form a perfect tree, which RootHash hashes exactly.
		return RootHash(hashes[off : off+(1<<k)]), nil
	}
}
