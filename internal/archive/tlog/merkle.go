// Package tlog is the archive's tamper-evident log: an RFC 6962 Merkle tree
// of small commitments (never message content), C2SP tlog-checkpoint bodies,
// and C2SP signed notes with Ed25519 keys.
//
// Everything here follows the published algorithms byte for byte on purpose:
// a log that only our own code can verify proves nothing to an auditor, while
// one that matches RFC 6962 / RFC 9162 and the C2SP specifications can be
// checked with golang.org/x/mod/sumdb/note, transparency-dev/merkle or any
// other independent implementation.
package tlog

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
)

// HashSize is the size in bytes of every hash in the log (SHA-256).
const HashSize = sha256.Size

// Domain-separation prefixes from RFC 6962 §2.1. They keep a leaf from ever
// being reinterpreted as an interior node (second-preimage attacks).
const (
	leafPrefix = 0x00
	nodePrefix = 0x01
)

// Hash is one node of the Merkle tree: a leaf hash, an interior node hash or
// a tree root. A fixed-size array, so a wrong-length hash cannot exist.
type Hash [HashSize]byte

// String renders the hash in lowercase hex, the form test vectors and logs use.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText encodes the hash in standard base64, as checkpoints and
// C2SP tooling write hashes, so proofs in JSON read the same way.
func (h Hash) MarshalText() ([]byte, error) {
	return []byte(strictBase64.EncodeToString(h[:])), nil
}

// UnmarshalText decodes a standard base64 hash of exactly HashSize bytes.
func (h *Hash) UnmarshalText(text []byte) error {
	b, err := strictBase64.DecodeString(string(text))
	if err != nil || len(b) != HashSize {
		return fmt.Errorf("tlog: a hash is %d bytes in standard base64", HashSize)
	}
	copy(h[:], b)
	return nil
}

// ErrInvalidProof is wrapped by every verification failure, so callers can
// tell "the proof does not check out" from "the request was malformed".
var ErrInvalidProof = errors.New("tlog: invalid proof")

// emptyRoot is the Merkle Tree Hash of zero leaves, SHA-256 of the empty string.
var emptyRoot = Hash(sha256.Sum256(nil))

// EmptyRoot returns the Merkle Tree Hash of the empty tree, SHA-256("")
// (RFC 6962 §2.1), which a size-0 checkpoint carries.
func EmptyRoot() Hash { return emptyRoot }

// LeafHash returns the RFC 6962 leaf hash SHA-256(0x00 ‖ data).
func LeafHash(data []byte) Hash {
	h := sha256.New()
	h.Write([]byte{leafPrefix})
	h.Write(data)
	var out Hash
	h.Sum(out[:0])
	return out
}

// NodeHash returns the RFC 6962 interior node hash SHA-256(0x01 ‖ left ‖ right).
func NodeHash(left, right Hash) Hash {
	// A stack buffer and Sum256 keep the hot path of tree maintenance
	// allocation-free.
	var buf [1 + 2*HashSize]byte
	buf[0] = nodePrefix
	copy(buf[1:], left[:])
	copy(buf[1+HashSize:], right[:])
	return sha256.Sum256(buf[:])
}

// RootHash returns the Merkle Tree Hash (RFC 6962 §2.1) of the given leaf
// hashes, computed from scratch in O(n).
//
// It pairs nodes level by level and promotes an unpaired last node unchanged.
// That builds exactly the tree of the RFC's "largest power of two smaller
// than n" split, without recursion; the tests cross-check it against a
// literal transcription of the RFC definition.
func RootHash(leaves []Hash) Hash {
	switch len(leaves) {
	case 0:
		return emptyRoot
	case 1:
		return leaves[0]
	}
	level := make([]Hash, len(leaves))
	copy(level, leaves)
	for len(level) > 1 {
		next := level[:0]
		for i := 0; i+1 < len(level); i += 2 {
			next = append(next, NodeHash(level[i], level[i+1]))
		}
		if len(level)%2 == 1 {
			next = append(next, level[len(level)-1])
		}
		level = next
	}
	return level[0]
}

// HashAtFunc returns the hash of the perfect subtree at the given level and
// index: the subtree over leaves [index·2^level, (index+1)·2^level). Level 0
// is the leaf hashes themselves. Only perfect subtrees are ever requested,
// which is exactly what C2SP tlog-tiles stores, so a tile reader can serve
// proofs without materialising the tree.
type HashAtFunc func(level uint8, index uint64) (Hash, error)

// largestPow2Below returns the largest power of two strictly less than n
// (the split point k of RFC 6962 §2.1). n must be at least 2.
func largestPow2Below(n uint64) uint64 {
	return 1 << (bits.Len64(n-1) - 1)
}

// rangeHash returns MTH(D[lo:hi]) built from perfect subtrees. lo must be a
// multiple of the largest power of two not exceeding hi-lo, which holds for
// every range the RFC 6962 recursions visit; it is checked rather than
// assumed so that a bug surfaces as an error, not as a wrong proof.
func rangeHash(lo, hi uint64, hashAt HashAtFunc) (Hash, error) {
	n := hi - lo
	if n == 0 {
		return emptyRoot, nil
	}
	// Perfect subtrees of a ragged range correspond to the set bits of n,
	// largest first; fold them together from the right.
	var parts [64]Hash
	count := 0
	start := lo
	for l := bits.Len64(n) - 1; l >= 0; l-- {
		size := uint64(1) << l
		if n&size == 0 {
			continue
		}
		if start%size != 0 {
			return Hash{}, fmt.Errorf("tlog: subtree [%d, %d) is not aligned at level %d", lo, hi, l)
		}
		h, err := hashAt(uint8(l), start/size)
		if err != nil {
			return Hash{}, fmt.Errorf("tlog: reading subtree hash level %d index %d: %w", l, start/size, err)
		}
		parts[count] = h
		count++
		start += size
	}
	root := parts[count-1]
	for i := count - 2; i >= 0; i-- {
		root = NodeHash(parts[i], root)
	}
	return root, nil
}

// TreeHash returns the Merkle Tree Hash of the first size leaves, reading
// O(log size) perfect-subtree hashes through hashAt.
func TreeHash(size uint64, hashAt HashAtFunc) (Hash, error) {
	return rangeHash(0, size, hashAt)
}

// InclusionProof returns the RFC 6962 §2.1.1 audit path for the leaf at
// index in the tree of the given size, reading subtree hashes through hashAt.
func InclusionProof(index, size uint64, hashAt HashAtFunc) ([]Hash, error) {
	if index >= size {
		return nil, fmt.Errorf("tlog: inclusion proof for index %d in tree of size %d: index out of range", index, size)
	}
	proof := make([]Hash, 0, bits.Len64(size))
	var walk func(m, lo, hi uint64) error
	// PATH(m, D[lo:hi]) = PATH(m, left) : MTH(right), or the mirror image.
	walk = func(m, lo, hi uint64) error {
		n := hi - lo
		if n == 1 {
			return nil
		}
		k := largestPow2Below(n)
		var sib Hash
		var err error
		if m < k {
			if err = walk(m, lo, lo+k); err != nil {
				return err
			}
			sib, err = rangeHash(lo+k, hi, hashAt)
		} else {
			if err = walk(m-k, lo+k, hi); err != nil {
				return err
			}
			sib, err = rangeHash(lo, lo+k, hashAt)
		}
		if err != nil {
			return err
		}
		proof = append(proof, sib)
		return nil
	}
	if err := walk(index, 0, size); err != nil {
		return nil, fmt.Errorf("tlog: inclusion proof for index %d in tree of size %d: %w", index, size, err)
	}
	return proof, nil
}

// ConsistencyProof returns the RFC 6962 §2.1.2 proof that the tree of size1
// is a prefix of the tree of size2. It is empty when size1 is 0 or equals
// size2, because those cases need no evidence beyond the roots themselves.
func ConsistencyProof(size1, size2 uint64, hashAt HashAtFunc) ([]Hash, error) {
	if size1 > size2 {
		return nil, fmt.Errorf("tlog: consistency proof from size %d to smaller size %d", size1, size2)
	}
	if size1 == 0 || size1 == size2 {
		return []Hash{}, nil
	}
	proof := make([]Hash, 0, 2*bits.Len64(size2))
	var sub func(m, lo, hi uint64, whole bool) error
	// SUBPROOF(m, D[lo:hi], b) from RFC 6962 §2.1.2; whole is the flag b,
	// true while D[lo:lo+m] is still the entire old tree, whose root the
	// verifier already has and which is therefore omitted.
	sub = func(m, lo, hi uint64, whole bool) error {
		n := hi - lo
		if m == n {
			if whole {
				return nil
			}
			h, err := rangeHash(lo, hi, hashAt)
			if err != nil {
				return err
			}
			proof = append(proof, h)
			return nil
		}
		k := largestPow2Below(n)
		var h Hash
		var err error
		if m <= k {
			if err = sub(m, lo, lo+k, whole); err != nil {
				return err
			}
			h, err = rangeHash(lo+k, hi, hashAt)
		} else {
			if err = sub(m-k, lo+k, hi, false); err != nil {
				return err
			}
			h, err = rangeHash(lo, lo+k, hashAt)
		}
		if err != nil {
			return err
		}
		proof = append(proof, h)
		return nil
	}
	if err := sub(size1, 0, size2, true); err != nil {
		return nil, fmt.Errorf("tlog: consistency proof from size %d to %d: %w", size1, size2, err)
	}
	return proof, nil
}

// VerifyInclusion checks that leafHash is the leaf at index in the tree of
// the given size and root, using the RFC 9162 §2.1.3.2 algorithm. It wraps
// ErrInvalidProof when the proof does not check out.
func VerifyInclusion(leafHash Hash, index, size uint64, proof []Hash, root Hash) error {
	if index >= size {
		return fmt.Errorf("%w: index %d not below tree size %d", ErrInvalidProof, index, size)
	}
	fn, sn := index, size-1
	r := leafHash
	for i, p := range proof {
		if sn == 0 {
			return fmt.Errorf("%w: inclusion proof for index %d in size %d has %d hashes, more than the path length %d",
				ErrInvalidProof, index, size, len(proof), i)
		}
		if fn&1 == 1 || fn == sn {
			r = NodeHash(p, r)
			// Skip levels where this node is the rightmost and has no
			// sibling: RFC 6962 promotes it unchanged.
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = NodeHash(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return fmt.Errorf("%w: inclusion proof for index %d in size %d is too short (%d hashes)",
			ErrInvalidProof, index, size, len(proof))
	}
	if r != root {
		return fmt.Errorf("%w: inclusion proof for index %d in size %d yields root %s, want %s",
			ErrInvalidProof, index, size, r, root)
	}
	return nil
}

// VerifyConsistency checks that the tree of size1 with root1 is a prefix of
// the tree of size2 with root2, using the RFC 9162 §2.1.4.2 algorithm. It
// wraps ErrInvalidProof when the proof does not check out.
//
// This is the check that makes the log append-only in the eyes of an
// auditor holding two checkpoints: it fails for any rewritten history.
func VerifyConsistency(size1, size2 uint64, proof []Hash, root1, root2 Hash) error {
	switch {
	case size1 > size2:
		return fmt.Errorf("%w: consistency from size %d to smaller size %d", ErrInvalidProof, size1, size2)
	case size1 == size2:
		if len(proof) != 0 {
			return fmt.Errorf("%w: consistency between equal sizes %d must have an empty proof, got %d hashes",
				ErrInvalidProof, size1, len(proof))
		}
		if root1 != root2 {
			return fmt.Errorf("%w: trees of equal size %d have different roots %s and %s", ErrInvalidProof, size1, root1, root2)
		}
		return nil
	case size1 == 0:
		// Every tree extends the empty tree; insisting on the empty root
		// still catches a size-0 checkpoint that claims some other root.
		if len(proof) != 0 {
			return fmt.Errorf("%w: consistency from the empty tree must have an empty proof, got %d hashes", ErrInvalidProof, len(proof))
		}
		if root1 != emptyRoot {
			return fmt.Errorf("%w: size-0 root is %s, want the empty-tree hash %s", ErrInvalidProof, root1, emptyRoot)
		}
		return nil
	}
	if len(proof) == 0 {
		return fmt.Errorf("%w: consistency from size %d to %d needs a non-empty proof", ErrInvalidProof, size1, size2)
	}

	// When the old tree is a perfect subtree its root is not in the proof;
	// the verifier starts from root1 instead.
	if size1&(size1-1) == 0 {
		proof = append([]Hash{root1}, proof...)
	}
	fn, sn := size1-1, size2-1
	for fn&1 == 1 {
		fn >>= 1
		sn >>= 1
	}
	fr, sr := proof[0], proof[0]
	for _, c := range proof[1:] {
		if sn == 0 {
			return fmt.Errorf("%w: consistency proof from size %d to %d is too long (%d hashes)", ErrInvalidProof, size1, size2, len(proof))
		}
		if fn&1 == 1 || fn == sn {
			fr = NodeHash(c, fr)
			sr = NodeHash(c, sr)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			sr = NodeHash(sr, c)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return fmt.Errorf("%w: consistency proof from size %d to %d is too short (%d hashes)", ErrInvalidProof, size1, size2, len(proof))
	}
	if fr != root1 {
		return fmt.Errorf("%w: consistency proof from size %d to %d yields old root %s, want %s", ErrInvalidProof, size1, size2, fr, root1)
	}
	if sr != root2 {
		return fmt.Errorf("%w: consistency proof from size %d to %d yields new root %s, want %s", ErrInvalidProof, size1, size2, sr, root2)
	}
	return nil
}
