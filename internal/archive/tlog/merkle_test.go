package tlog

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// The reference tree of the Certificate Transparency project's Merkle tests
// (google/certificate-transparency merkle_tree_test, carried on in
// github.com/transparency-dev/merkle testonly): eight leaf inputs, the root
// for every size, and a few audit and consistency paths. Independent
// implementations in several languages carry the same values; matching them
// is what lets third-party RFC 6962 verifiers check our log.
var ctLeafInputs = []string{
	"", "00", "10", "2021", "3031", "40414243",
	"5051525354555657", "606162636465666768696a6b6c6d6e6f",
}

var ctRoots = []string{ // index = tree size
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

var ctInclusion = []struct {
	index, size uint64
	proof       []string
}{
	{0, 1, nil},
	{0, 8, []string{
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
	}},
	{5, 8, []string{
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	}},
	{2, 3, []string{
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	}},
	{1, 5, []string{
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	}},
}

var ctConsistency = []struct {
	size1, size2 uint64
	proof        []string
}{
	{1, 1, nil},
	{1, 8, []string{
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
	}},
	{2, 8, []string{
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
	}},
	{6, 8, []string{
		"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	}},
	{2, 5, []string{
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	}},
}

func mustHash(t testing.TB, s string) Hash {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != HashSize {
		t.Fatalf("bad test hash %q: %v", s, err)
	}
	return Hash(b)
}

func mustHashes(t testing.TB, ss []string) []Hash {
	t.Helper()
	out := make([]Hash, 0, len(ss))
	for _, s := range ss {
		out = append(out, mustHash(t, s))
	}
	return out
}

func ctTree(t *testing.T) (*Tree, []Hash) {
	t.Helper()
	var tree Tree
	var leaves []Hash
	for _, in := range ctLeafInputs {
		d, err := hex.DecodeString(in)
		if err != nil {
			t.Fatal(err)
		}
		h := LeafHash(d)
		leaves = append(leaves, h)
		tree.Append(h)
	}
	return &tree, leaves
}

func hexes(hs []Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.String()
	}
	return out
}

func TestEmptyRoot(t *testing.T) {
	if got := EmptyRoot().String(); got != ctRoots[0] {
		t.Fatalf("EmptyRoot() = %s, want SHA-256(\"\") = %s", got, ctRoots[0])
	}
	if got := RootHash(nil); got != EmptyRoot() {
		t.Fatalf("RootHash(nil) = %s, want the empty root", got)
	}
	var tree Tree
	if got := tree.Root(); got != EmptyRoot() {
		t.Fatalf("empty Tree root = %s, want the empty root", got)
	}
}

func TestHashPrefixes(t *testing.T) {
	// The domain separation bytes are the whole point of RFC 6962 hashing;
	// check them directly rather than only through vectors.
	if got, want := LeafHash([]byte("x")), Hash(sha256.Sum256([]byte("\x00x"))); got != want {
		t.Errorf("LeafHash = %s, want SHA-256(0x00‖d) = %s", got, want)
	}
	var l, r Hash
	l[0], r[0] = 1, 2
	want := Hash(sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...)))
	if got := NodeHash(l, r); got != want {
		t.Errorf("NodeHash = %s, want SHA-256(0x01‖l‖r) = %s", got, want)
	}
}

func TestReferenceRoots(t *testing.T) {
	tree, leaves := ctTree(t)
	for size := range uint64(len(leaves) + 1) {
		want := ctRoots[size]
		if got := RootHash(leaves[:size]).String(); got != want {
			t.Errorf("RootHash(size %d) = %s, want %s", size, got, want)
		}
		got, err := tree.RootAt(size)
		if err != nil {
			t.Fatalf("RootAt(%d): %v", size, err)
		}
		if got.String() != want {
			t.Errorf("Tree.RootAt(%d) = %s, want %s", size, got, want)
		}
	}
}

func TestReferenceInclusionProofs(t *testing.T) {
	tree, leaves := ctTree(t)
	for _, tc := range ctInclusion {
		got, err := tree.InclusionProof(tc.index, tc.size)
		if err != nil {
			t.Fatalf("InclusionProof(%d, %d): %v", tc.index, tc.size, err)
		}
		if fmt.Sprint(hexes(got)) != fmt.Sprint(tc.proof) && !(len(got) == 0 && len(tc.proof) == 0) {
			t.Errorf("InclusionProof(%d, %d) = %v, want %v", tc.index, tc.size, hexes(got), tc.proof)
		}
		root := mustHash(t, ctRoots[tc.size])
		if err := VerifyInclusion(leaves[tc.index], tc.index, tc.size, mustHashes(t, tc.proof), root); err != nil {
			t.Errorf("VerifyInclusion(%d, %d) of the reference proof: %v", tc.index, tc.size, err)
		}
	}
}

func TestReferenceConsistencyProofs(t *testing.T) {
	tree, _ := ctTree(t)
	for _, tc := range ctConsistency {
		got, err := tree.ConsistencyProof(tc.size1, tc.size2)
		if err != nil {
			t.Fatalf("ConsistencyProof(%d, %d): %v", tc.size1, tc.size2, err)
		}
		if fmt.Sprint(hexes(got)) != fmt.Sprint(tc.proof) && !(len(got) == 0 && len(tc.proof) == 0) {
			t.Errorf("ConsistencyProof(%d, %d) = %v, want %v", tc.size1, tc.size2, hexes(got), tc.proof)
		}
		r1, r2 := mustHash(t, ctRoots[tc.size1]), mustHash(t, ctRoots[tc.size2])
		if err := VerifyConsistency(tc.size1, tc.size2, mustHashes(t, tc.proof), r1, r2); err != nil {
			t.Errorf("VerifyConsistency(%d, %d) of the reference proof: %v", tc.size1, tc.size2, err)
		}
	}
}

// naiveMTH is RFC 6962 §2.1 transcribed literally over the raw leaf data:
// recursion with the largest-power-of-two split. It shares no code with
// RootHash or Tree beyond the two hash primitives.
func naiveMTH(data [][]byte) Hash {
	n := len(data)
	if n == 0 {
		return sha256.Sum256(nil)
	}
	if n == 1 {
		return sha256.Sum256(append([]byte{0}, data[0]...))
	}
	k := 1
	for k*2 < n {
		k *= 2
	}
	l, r := naiveMTH(data[:k]), naiveMTH(data[k:])
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

// randomLog builds a tree of n leaves of pseudo-random data, seeded so that
// failures are reproducible.
func randomLog(seed uint64, n int) (*Tree, [][]byte, []Hash) {
	rng := rand.New(rand.NewPCG(seed, 0x7109))
	var tree Tree
	data := make([][]byte, n)
	leaves := make([]Hash, n)
	for i := range n {
		// The index prefix keeps leaves distinct: two equal leaves would
		// make a proof for one legitimately valid for the other.
		d := binary.BigEndian.AppendUint64(nil, uint64(i))
		for range rng.IntN(40) {
			d = append(d, byte(rng.Uint32()))
		}
		data[i] = d
		leaves[i] = LeafHash(d)
		tree.Append(leaves[i])
	}
	return &tree, data, leaves
}

func TestRootMatchesNaiveMTH(t *testing.T) {
	tree, data, leaves := randomLog(1, 300)
	for size := 0; size <= 300; size++ {
		want := naiveMTH(data[:size])
		if got := RootHash(leaves[:size]); got != want {
			t.Fatalf("RootHash(size %d) = %s, naive MTH = %s", size, got, want)
		}
		got, err := tree.RootAt(uint64(size))
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("Tree.RootAt(%d) = %s, naive MTH = %s", size, got, want)
		}
	}
	if tree.Root() != naiveMTH(data) {
		t.Fatal("Tree.Root() differs from naive MTH")
	}
}

func flipBit(proof []Hash, rng *rand.Rand) []Hash {
	out := append([]Hash(nil), proof...)
	i := rng.IntN(len(out))
	out[i][rng.IntN(HashSize)] ^= 1 << rng.IntN(8)
	return out
}

// inclusionCase is one tampered input to VerifyInclusion.
type inclusionCase struct {
	name  string
	leaf  Hash
	index uint64
	size  uint64
	proof []Hash
	root  Hash
}

func TestInclusionProofProperties(t *testing.T) {
	const maxSize = 300
	tree, _, leaves := randomLog(2, maxSize)
	rng := rand.New(rand.NewPCG(3, 3))
	for size := uint64(1); size <= maxSize; size++ {
		root, err := tree.RootAt(size)
		if err != nil {
			t.Fatal(err)
		}
		for index := range size {
			proof, err := tree.InclusionProof(index, size)
			if err != nil {
				t.Fatalf("InclusionProof(%d, %d): %v", index, size, err)
			}
			leaf := leaves[index]
			if err := VerifyInclusion(leaf, index, size, proof, root); err != nil {
				t.Fatalf("VerifyInclusion(%d, %d): %v", index, size, err)
			}
			// Every kind of tampering must fail, and must say so with
			// ErrInvalidProof rather than some other error.
			var flippedLeaf, flippedRoot = leaf, root
			flippedLeaf[rng.IntN(HashSize)] ^= 1 << rng.IntN(8)
			flippedRoot[rng.IntN(HashSize)] ^= 1 << rng.IntN(8)
			bad := []inclusionCase{
				{"wrong index", leaf, (index + 1) % size, size, proof, root},
				{"wrong size", leaf, index, size + 1, proof, root},
				{"extra hash", leaf, index, size, append(append([]Hash(nil), proof...), Hash{}), root},
				{"flipped leaf", flippedLeaf, index, size, proof, root},
				{"flipped root", leaf, index, size, proof, flippedRoot},
			}
			if len(proof) > 0 {
				bad = append(bad,
					inclusionCase{"flipped proof bit", leaf, index, size, flipBit(proof, rng), root},
					inclusionCase{"truncated", leaf, index, size, proof[:len(proof)-1], root})
			}
			for _, b := range bad {
				if b.name == "wrong index" && size == 1 {
					continue
				}
				if b.name == "wrong size" {
					// The size is bound through the root: claiming a
					// different size only matters together with that
					// size's real root, which does not exist past maxSize.
					if size == maxSize {
						continue
					}
					b.root, _ = tree.RootAt(size + 1)
				}
				err := VerifyInclusion(b.leaf, b.index, b.size, b.proof, b.root)
				if err == nil {
					t.Fatalf("VerifyInclusion(%d, %d) accepted tampered input (%s)", index, size, b.name)
				}
				if !errors.Is(err, ErrInvalidProof) {
					t.Fatalf("VerifyInclusion(%d, %d) %s: error %v does not wrap ErrInvalidProof", index, size, b.name, err)
				}
			}
		}
	}
}

func TestConsistencyProofProperties(t *testing.T) {
	const maxSize = 300
	tree, _, _ := randomLog(4, maxSize)
	rng := rand.New(rand.NewPCG(5, 5))
	roots := make([]Hash, maxSize+1)
	for s := range uint64(maxSize + 1) {
		r, err := tree.RootAt(s)
		if err != nil {
			t.Fatal(err)
		}
		roots[s] = r
	}
	for n := uint64(1); n <= maxSize; n++ {
		for m := uint64(0); m <= n; m++ {
			proof, err := tree.ConsistencyProof(m, n)
			if err != nil {
				t.Fatalf("ConsistencyProof(%d, %d): %v", m, n, err)
			}
			if err := VerifyConsistency(m, n, proof, roots[m], roots[n]); err != nil {
				t.Fatalf("VerifyConsistency(%d, %d): %v", m, n, err)
			}
			if m == 0 || m == n {
				if len(proof) != 0 {
					t.Fatalf("ConsistencyProof(%d, %d) has %d hashes, want none", m, n, len(proof))
				}
				continue
			}
			tampered := map[string]func() error{
				"flipped proof bit": func() error {
					return VerifyConsistency(m, n, flipBit(proof, rng), roots[m], roots[n])
				},
				"truncated": func() error {
					return VerifyConsistency(m, n, proof[:len(proof)-1], roots[m], roots[n])
				},
				"extra hash": func() error {
					return VerifyConsistency(m, n, append(append([]Hash(nil), proof...), Hash{}), roots[m], roots[n])
				},
				"wrong old root": func() error {
					return VerifyConsistency(m, n, proof, roots[m-1], roots[n])
				},
				"wrong new root": func() error {
					return VerifyConsistency(m, n, proof, roots[m], roots[n-1])
				},
				"swapped sizes": func() error {
					return VerifyConsistency(n, m, proof, roots[n], roots[m])
				},
			}
			for name, f := range tampered {
				err := f()
				if err == nil {
					t.Fatalf("VerifyConsistency(%d, %d) accepted tampered input (%s)", m, n, name)
				}
				if !errors.Is(err, ErrInvalidProof) {
					t.Fatalf("VerifyConsistency(%d, %d) %s: error %v does not wrap ErrInvalidProof", m, n, name, err)
				}
			}
		}
	}
}

func TestConsistencyEdgeCases(t *testing.T) {
	tree, _, _ := randomLog(6, 10)
	r5, _ := tree.RootAt(5)
	r10 := tree.Root()
	if err := VerifyConsistency(0, 10, nil, EmptyRoot(), r10); err != nil {
		t.Errorf("empty tree must be consistent with any tree: %v", err)
	}
	if err := VerifyConsistency(0, 10, nil, r5, r10); err == nil {
		t.Error("size-0 checkpoint with a non-empty root accepted")
	}
	if err := VerifyConsistency(5, 5, nil, r5, r5); err != nil {
		t.Errorf("equal sizes with equal roots: %v", err)
	}
	if err := VerifyConsistency(5, 5, nil, r5, r10); err == nil {
		t.Error("equal sizes with different roots accepted")
	}
	if err := VerifyConsistency(5, 10, nil, r5, r10); err == nil {
		t.Error("empty proof between different sizes accepted")
	}
	if _, err := tree.ConsistencyProof(6, 5); err == nil {
		t.Error("ConsistencyProof with size1 > size2 succeeded")
	}
	if _, err := tree.ConsistencyProof(5, 11); err == nil {
		t.Error("ConsistencyProof beyond the tree succeeded")
	}
}

func TestInclusionProofErrors(t *testing.T) {
	tree, _, leaves := randomLog(7, 10)
	if _, err := tree.InclusionProof(10, 10); err == nil {
		t.Error("InclusionProof with index == size succeeded")
	}
	if _, err := tree.InclusionProof(0, 11); err == nil {
		t.Error("InclusionProof beyond the tree succeeded")
	}
	if err := VerifyInclusion(leaves[0], 0, 0, nil, EmptyRoot()); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("VerifyInclusion in an empty tree: %v, want ErrInvalidProof", err)
	}
	// The package-level functions must surface storage errors, wrapped.
	broken := errors.New("tile missing")
	_, err := InclusionProof(3, 10, func(uint8, uint64) (Hash, error) { return Hash{}, broken })
	if !errors.Is(err, broken) {
		t.Errorf("InclusionProof with a failing HashAtFunc: %v, want it to wrap %v", err, broken)
	}
	_, err = ConsistencyProof(3, 10, func(uint8, uint64) (Hash, error) { return Hash{}, broken })
	if !errors.Is(err, broken) {
		t.Errorf("ConsistencyProof with a failing HashAtFunc: %v, want it to wrap %v", err, broken)
	}
}

func TestHashTextRoundTrip(t *testing.T) {
	h := LeafHash([]byte("leaf"))
	text, err := h.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	var back Hash
	if err := back.UnmarshalText(text); err != nil || back != h {
		t.Fatalf("round trip: %v %v", back, err)
	}
	for _, bad := range []string{"", "AAAA", string(text) + "AA", "!!!"} {
		if err := back.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("%q accepted as a hash", bad)
		}
	}
}
