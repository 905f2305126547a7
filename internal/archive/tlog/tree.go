package tlog

import "fmt"

// Tree is an append-only, in-memory RFC 6962 Merkle tree that keeps every
// perfect subtree hash, the same set of hashes C2SP tlog-tiles publishes.
// Appending costs amortised O(1) node hashes, and a root or a proof for any
// earlier size costs O(log n), so checkpoints never rehash the whole log.
//
// A Tree is not safe for concurrent use; the archive has a single sequencer
// per log and serialises appends itself.
type Tree struct {
	// levels[l][i] is the hash of the perfect subtree over leaves
	// [i·2^l, (i+1)·2^l). Two hashes per leaf in total.
	levels [][]Hash
}

// Size returns the number of leaves appended so far.
func (t *Tree) Size() uint64 {
	if len(t.levels) == 0 {
		return 0
	}
	return uint64(len(t.levels[0]))
}

// Append adds a leaf hash (see LeafHash) and returns its index.
func (t *Tree) Append(leafHash Hash) uint64 {
	index := t.Size()
	cur := leafHash
	for l := 0; ; l++ {
		if l == len(t.levels) {
			t.levels = append(t.levels, nil)
		}
		t.levels[l] = append(t.levels[l], cur)
		n := len(t.levels[l])
		if n%2 == 1 {
			return index
		}
		// A completed pair becomes a perfect subtree one level up.
		cur = NodeHash(t.levels[l][n-2], t.levels[l][n-1])
	}
}

// HashAt returns the stored hash of the perfect subtree at level and index;
// it is a HashAtFunc, so the package-level proof functions work on a Tree.
func (t *Tree) HashAt(level uint8, index uint64) (Hash, error) {
	if int(level) >= len(t.levels) || index >= uint64(len(t.levels[level])) {
		return Hash{}, fmt.Errorf("tlog: no complete subtree at level %d index %d in tree of size %d", level, index, t.Size())
	}
	return t.levels[level][index], nil
}

// Root returns the Merkle Tree Hash of the whole tree.
func (t *Tree) Root() Hash {
	h, err := TreeHash(t.Size(), t.HashAt)
	if err != nil {
		// Every perfect subtree below Size exists by construction.
		panic(fmt.Sprintf("tlog: internal inconsistency computing root: %v", err))
	}
	return h
}

// RootAt returns the Merkle Tree Hash of the first size leaves, so that the
// root behind any earlier checkpoint can be recomputed.
func (t *Tree) RootAt(size uint64) (Hash, error) {
	if size > t.Size() {
		return Hash{}, fmt.Errorf("tlog: root at size %d of tree of size %d", size, t.Size())
	}
	return TreeHash(size, t.HashAt)
}

// InclusionProof returns the audit path for the leaf at index in the tree
// of the given size, which may be any size up to Size.
func (t *Tree) InclusionProof(index, size uint64) ([]Hash, error) {
	if size > t.Size() {
		return nil, fmt.Errorf("tlog: inclusion proof at size %d of tree of size %d", size, t.Size())
	}
	return InclusionProof(index, size, t.HashAt)
}

// ConsistencyProof returns the proof that the tree of size1 is a prefix of
// the tree of size2, both at most Size.
func (t *Tree) ConsistencyProof(size1, size2 uint64) ([]Hash, error) {
	if size2 > t.Size() {
		return nil, fmt.Errorf("tlog: consistency proof to size %d of tree of size %d", size2, t.Size())
	}
	return ConsistencyProof(size1, size2, t.HashAt)
}
