package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

// OpenCheckpoint fetches and verifies a backend's newest checkpoint.
func OpenCheckpoint(t *testing.T, l store.Log) tlog.Checkpoint {
	t.Helper()
	note, err := l.Checkpoint(context.Background())
	if err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	cp, _, err := tlog.OpenCheckpoint(note, l.Origin(), []*tlog.Verifier{l.Verifier()})
	if err != nil {
		t.Fatalf("the checkpoint does not verify: %v\n%s", err, note)
	}
	return cp
}

// ReadLog reads every leaf of the tree a checkpoint covers and checks that
// they hash to its root, as an auditor recomputing the log would.
func ReadLog(t *testing.T, l store.Log, cp tlog.Checkpoint) []store.Leaf {
	t.Helper()
	var bodies [][]byte
	for uint64(len(bodies)) < cp.Size {
		page, err := l.Leaves(context.Background(), uint64(len(bodies)), store.MaxListLimit)
		if err != nil || len(page) == 0 {
			t.Fatalf("reading leaves from %d: %v", len(bodies), err)
		}
		bodies = append(bodies, page...)
	}
	bodies = bodies[:cp.Size]
	hashes := make([]tlog.Hash, len(bodies))
	leaves := make([]store.Leaf, len(bodies))
	for i, b := range bodies {
		hashes[i] = tlog.LeafHash(b)
		if err := json.Unmarshal(b, &leaves[i]); err != nil {
			t.Fatalf("leaf %d is not a leaf: %v", i, err)
		}
		if string(leaves[i].Encode()) != string(b) {
			t.Fatalf("leaf %d is not in canonical form: %s", i, b)
		}
	}
	if root := tlog.RootHash(hashes); root != cp.Root {
		t.Fatalf("the leaves hash to %s, the checkpoint says %s", root, cp.Root)
	}
	return leaves
}

func testLog(t *testing.T, s store.Store) {
	ctx := context.Background()
	l, ok := s.(store.Log)
	if !ok {
		t.Fatal("every backend keeps the tamper-evident log (store.Log)")
	}
	a := Envelope("log-1", base, "第一条", 1)
	b := Envelope("log-2", base.Add(time.Minute), "second", 0)
	c := Envelope("log-3", base.Add(2*time.Minute), "第三条", 0)
	ingest(t, s, acctA, "Alice", a, b)
	ingest(t, s, acctA, "Alice", b, c) // b again: no second record leaf
	if err := s.RecordAccess(ctx, "auditor@example.com", store.AuditRead, string(acctA), "q=第三条"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutHold(ctx, store.Hold{ID: "desk/h", Accounts: []store.AccountKey{acctA}, Query: "第三条", Reason: "inquiry", Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	cp := OpenCheckpoint(t, l)
	leaves := ReadLog(t, l, cp)
	types := map[string]int{}
	actions := map[string]int{}
	for _, lf := range leaves {
		types[lf.Type]++
		actions[lf.Action]++
	}
	if types[store.LeafRecord] != 3 {
		t.Fatalf("%d record leaves, want one per stored record (3)", types[store.LeafRecord])
	}
	if actions[store.AuditIngest] != 2 || actions[store.AuditRead] != 1 || actions[store.AuditHoldPut] != 1 {
		t.Fatalf("audit leaves by action: %v", actions)
	}
	for _, lf := range leaves {
		if lf.Type == store.LeafAudit && lf.Action == store.AuditRead {
			want := sha256.Sum256([]byte("q=第三条"))
			if lf.DetailSHA256 != hex.EncodeToString(want[:]) || lf.Actor != "auditor@example.com" {
				t.Fatalf("the read's leaf does not commit to its detail: %+v", lf)
			}
		}
	}
	proveRecords := func(cp tlog.Checkpoint, leaves []store.Leaf, ids ...string) {
		t.Helper()
		for _, id := range ids {
			idx, err := l.RecordLeafIndex(ctx, id)
			if err != nil {
				t.Fatalf("record %s: %v", id, err)
			}
			if leaves[idx].RecordID != id {
				t.Fatalf("leaf %d is %+v, not record %s", idx, leaves[idx], id)
			}
			proof, err := l.InclusionProof(ctx, idx, cp.Size)
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.VerifyInclusion(leaves[idx].Hash(), idx, cp.Size, proof, cp.Root); err != nil {
				t.Fatalf("record %s's inclusion proof: %v", id, err)
			}
		}
	}
	proveRecords(cp, leaves, a.Record.ID, b.Record.ID, c.Record.ID)

	// Listed records carry the exact bytes their leaves hash, which is what
	// an export hands an auditor to recompute them.
	listed, _, err := s.List(ctx, store.Query{Account: acctA})
	if err != nil || len(listed) != 3 {
		t.Fatalf("list = %d records, %v", len(listed), err)
	}
	for _, sr := range listed {
		idx, err := l.RecordLeafIndex(ctx, sr.Record.ID)
		if err != nil {
			t.Fatal(err)
		}
		lf := leaves[idx]
		var findings string
		if len(sr.FindingsBytes) > 0 {
			findings = sha256Hex(sr.FindingsBytes)
		}
		if sha256Hex(sr.RecordBytes) != lf.RecordSHA256 || findings != lf.FindingsSHA256 {
			t.Fatalf("record %s: listed bytes do not hash to its leaf %+v", sr.Record.ID, lf)
		}
	}
	if err := s.RecordAccess(ctx, "auditor@example.com", store.AuditIngest, string(acctA), "x"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("recording an ingest as an access: %v, want ErrInvalid", err)
	}

	// A purge deletes content, never leaves: the old proofs hold against
	// the new checkpoint, which extends the old one.
	if _, err := s.ReleaseHold(ctx, "desk/h", "closed", "test"); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Purge(ctx, store.PurgeRequest{Accounts: []store.AccountKey{acctA}, Cutoff: base.Add(time.Hour), MaxRecords: 10, Rule: "desk/r", Actor: "test"})
	if err != nil || rep.Purged != 3 {
		t.Fatalf("purge = %+v, %v", rep, err)
	}
	cp2 := OpenCheckpoint(t, l)
	if cp2.Size <= cp.Size {
		t.Fatalf("the release and the purge added no leaves (%d → %d)", cp.Size, cp2.Size)
	}
	proof, err := l.ConsistencyProof(ctx, cp.Size, cp2.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.VerifyConsistency(cp.Size, cp2.Size, proof, cp.Root, cp2.Root); err != nil {
		t.Fatalf("the log after the purge does not extend the log before it: %v", err)
	}
	leaves2 := ReadLog(t, l, cp2)
	proveRecords(cp2, leaves2, a.Record.ID, b.Record.ID, c.Record.ID)

	if _, err := l.InclusionProof(ctx, cp2.Size, cp2.Size); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("a proof past the tree: %v", err)
	}
	if _, err := l.ConsistencyProof(ctx, cp2.Size, cp2.Size+1); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("a consistency proof past the tree: %v", err)
	}
	if _, err := l.RecordLeafIndex(ctx, "no-such-record"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an unknown record: %v", err)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
