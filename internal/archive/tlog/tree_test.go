package tlog

import (
	"encoding/binary"
	"testing"
)

func TestTreeAppendAndHashAt(t *testing.T) {
	var tree Tree
	for i := range uint64(7) {
		if got := tree.Append(LeafHash([]byte{byte(i)})); got != i {
			t.Fatalf("Append returned index %d, want %d", got, i)
		}
	}
	if tree.Size() != 7 {
		t.Fatalf("Size = %d, want 7", tree.Size())
	}
	// Seven leaves hold perfect subtrees 0..6 at level 0, 0..2 at level 1
	// and 0 at level 2; nothing else exists yet.
	for _, c := range []struct {
		level uint8
		index uint64
		ok    bool
	}{{0, 6, true}, {0, 7, false}, {1, 2, true}, {1, 3, false}, {2, 0, true}, {2, 1, false}, {3, 0, false}} {
		_, err := tree.HashAt(c.level, c.index)
		if (err == nil) != c.ok {
			t.Errorf("HashAt(%d, %d) error = %v, want ok=%v", c.level, c.index, err, c.ok)
		}
	}
	h, _ := tree.HashAt(1, 0)
	if want := NodeHash(LeafHash([]byte{0}), LeafHash([]byte{1})); h != want {
		t.Errorf("HashAt(1, 0) = %s, want %s", h, want)
	}
	if _, err := tree.RootAt(8); err == nil {
		t.Error("RootAt beyond the tree succeeded")
	}
}

// BenchmarkAppendAndRoot measures what a checkpoint costs on a log of 1e5
// leaves: appending one leaf and producing the new root. "incremental" uses
// Tree (O(log n) per root); "recompute" is the baseline that rehashes the
// whole tree with RootHash each time, which is what a naive implementation
// would do. "build" appends 1e5 leaves and takes one root, against one MTH
// over the same leaves.
func BenchmarkAppendAndRoot(b *testing.B) {
	const n = 100_000
	leaves := make([]Hash, n)
	for i := range leaves {
		leaves[i] = LeafHash(binary.BigEndian.AppendUint64(nil, uint64(i)))
	}
	extra := LeafHash([]byte("extra"))

	b.Run("incremental/append+root@1e5", func(b *testing.B) {
		var tree Tree
		for _, l := range leaves {
			tree.Append(l)
		}
		b.ReportAllocs()
		var sink Hash
		for b.Loop() {
			tree.Append(extra)
			sink = tree.Root()
		}
		_ = sink
	})
	b.Run("recompute/append+root@1e5", func(b *testing.B) {
		all := append(make([]Hash, 0, n+1<<20), leaves...)
		b.ReportAllocs()
		var sink Hash
		for b.Loop() {
			all = append(all, extra)
			sink = RootHash(all)
		}
		_ = sink
	})
	b.Run("incremental/build1e5+root", func(b *testing.B) {
		b.ReportAllocs()
		var sink Hash
		for b.Loop() {
			var tree Tree
			for _, l := range leaves {
				tree.Append(l)
			}
			sink = tree.Root()
		}
		_ = sink
	})
	b.Run("recompute/MTH1e5", func(b *testing.B) {
		b.ReportAllocs()
		var sink Hash
		for b.Loop() {
			sink = RootHash(leaves)
		}
		_ = sink
	})
}
