package connectorconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
)

func TestFileRoundTripAndDigest(t *testing.T) {
	f := &File{Account: "desk/trader-li", Channel: v1alpha1.ChannelWebhook, ExternalID: "li",
		Custodian: v1alpha1.Custodian{Name: "李伟"}, State: v1alpha1.AccountActive, CredentialKeys: []string{"hmacSecret"}}
	a, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := f.Marshal()
	if Digest(a) != Digest(b) || !strings.HasPrefix(Digest(a), "sha256:") {
		t.Fatal("digest must be stable and labelled")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ConfigKey), a, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Account != f.Account || got.Custodian.Name != "李伟" || got.CredentialKeys[0] != "hmacSecret" {
		t.Fatalf("round trip = %+v", got)
	}
}

func TestLoadRefusesIncompleteConfig(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir); err == nil {
		t.Fatal("a missing config must be an error")
	}
	_ = os.WriteFile(filepath.Join(dir, ConfigKey), []byte(`{"channel":"Webhook"}`), 0o600)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "no account") {
		t.Fatalf("want a clear error for a config without account, got %v", err)
	}
}

func TestBundleOrderDoesNotChangeDigest(t *testing.T) {
	p1 := Policy{Name: "ns/b", Mode: v1alpha1.PolicyEnforce}
	p2 := Policy{Name: "ns/a", Mode: v1alpha1.PolicyAudit}
	x := &Bundle{Policies: []Policy{p1, p2}}
	y := &Bundle{Policies: []Policy{p2, p1}}
	bx, _ := x.Marshal()
	by, _ := y.Marshal()
	if Digest(bx) != Digest(by) {
		t.Fatal("the bundle digest must not depend on listing order")
	}
	d1, _ := PolicyDigest(p1)
	p1.Digest = "anything"
	d2, _ := PolicyDigest(p1)
	if d1 != d2 {
		t.Fatal("a policy's digest must not cover its own digest field")
	}
	back, err := ParseBundle(bx)
	if err != nil || len(back.Policies) != 2 || back.Policies[0].Name != "ns/a" {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	if _, err := ParseBundle([]byte("{not json")); err == nil {
		t.Fatal("a broken bundle must be an error")
	}
}
