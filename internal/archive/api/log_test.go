package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

// TestLogEndpoints plays an auditor who trusts only the pinned verifier key:
// fetch a checkpoint, rehash every served leaf to its root, prove a record's
// inclusion, and prove that a later checkpoint extends the first.
func TestLogEndpoints(t *testing.T) {
	const auditor = "auditor@example.com"
	f := newFixture(t, func(o *Options) {
		o.Authenticator = NewStaticTokens(map[string]string{connectorToken: "system:serviceaccount:desk:trader-li-connector",
			reviewerToken: auditor, adminToken: admin})
		o.Authorizer = grants{auditor + " get audit ": true}
	})
	if code, _, _ := f.call("POST", ingestPath, connectorToken, "application/x-ndjson", batch(t, 0, 5, "内幕")); code != 200 {
		t.Fatalf("ingest = %d", code)
	}
	if code, eb, _ := f.call("GET", "/v1/log/checkpoint", connectorToken, "", nil); code != 403 || eb.Reason != "forbidden" {
		t.Fatalf("a connector may not read the log: %d %+v", code, eb)
	}

	code, _, vkey := f.call("GET", "/v1/log/verifier", reviewerToken, "", nil)
	if code != 200 {
		t.Fatalf("verifier = %d", code)
	}
	verifier, err := tlog.ParseVerifierKey(string(bytes.TrimSpace(vkey)))
	if err != nil {
		t.Fatal(err)
	}
	checkpoint := func() tlog.Checkpoint {
		code, _, note := f.call("GET", "/v1/log/checkpoint", reviewerToken, "", nil)
		if code != 200 {
			t.Fatalf("checkpoint = %d %s", code, note)
		}
		cp, _, err := tlog.OpenCheckpoint(note, f.store.(store.Log).Origin(), []*tlog.Verifier{verifier})
		if err != nil {
			t.Fatalf("checkpoint does not verify: %v", err)
		}
		return cp
	}
	cp := checkpoint()

	code, _, body := f.call("GET", "/v1/log/leaves?start=0&count=1000", reviewerToken, "", nil)
	if code != 200 {
		t.Fatalf("leaves = %d", code)
	}
	lines := bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n"))
	if uint64(len(lines)) != cp.Size {
		t.Fatalf("%d leaves served for a checkpoint of %d", len(lines), cp.Size)
	}
	hashes := make([]tlog.Hash, len(lines))
	var recordID string
	for i, l := range lines {
		hashes[i] = tlog.LeafHash(l)
		var leaf store.Leaf
		if err := json.Unmarshal(l, &leaf); err != nil {
			t.Fatal(err)
		}
		if leaf.Type == store.LeafRecord && recordID == "" {
			recordID = leaf.RecordID
		}
	}
	if tlog.RootHash(hashes) != cp.Root {
		t.Fatal("the served leaves do not hash to the checkpoint's root")
	}

	code, _, body = f.call("GET", fmt.Sprintf("/v1/log/proof/inclusion?record=%s&size=%d", recordID, cp.Size), reviewerToken, "", nil)
	var inc InclusionProofResponse
	if code != 200 || json.Unmarshal(body, &inc) != nil {
		t.Fatalf("inclusion = %d %s", code, body)
	}
	if err := tlog.VerifyInclusion(hashes[inc.Index], inc.Index, cp.Size, inc.Proof, cp.Root); err != nil {
		t.Fatalf("inclusion proof: %v", err)
	}

	if code, _, _ := f.call("POST", ingestPath, connectorToken, "application/x-ndjson", batch(t, 5, 3, "later")); code != 200 {
		t.Fatal("second ingest failed")
	}
	cp2 := checkpoint()
	code, _, body = f.call("GET", fmt.Sprintf("/v1/log/proof/consistency?from=%d&to=%d", cp.Size, cp2.Size), reviewerToken, "", nil)
	var con ConsistencyProofResponse
	if code != 200 || json.Unmarshal(body, &con) != nil {
		t.Fatalf("consistency = %d %s", code, body)
	}
	if err := tlog.VerifyConsistency(cp.Size, cp2.Size, con.Proof, cp.Root, cp2.Root); err != nil {
		t.Fatalf("consistency proof: %v", err)
	}

	for path, reason := range map[string]string{
		"/v1/log/proof/inclusion?index=0":                                  "invalid",
		fmt.Sprintf("/v1/log/proof/inclusion?index=0&size=%d", cp2.Size+1): "invalid",
		"/v1/log/proof/inclusion?record=nope&size=1":                       "not_found",
		"/v1/log/proof/consistency?from=2":                                 "invalid",
		"/v1/log/leaves?count=0":                                           "invalid",
		"/v1/log/leaves?start=-1":                                          "invalid",
	} {
		if code, eb, _ := f.call("GET", path, reviewerToken, "", nil); code/100 != 4 || eb.Reason != reason {
			t.Errorf("%s = %d %+v, want %s", path, code, eb, reason)
		}
	}
}
