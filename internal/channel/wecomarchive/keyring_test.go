package wecomarchive_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/vigil-operator/vigil/internal/channel/wecomarchive"
	"github.com/vigil-operator/vigil/internal/connector/connectortest"
	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

func TestUnwrapRandomKeyMultiVersion(t *testing.T) {
	ring, err := wxcrypt.ParseKeyRing(bundle(t, 1, 2))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []int{1, 2} {
		ct, err := rsa.EncryptPKCS1v15(rand.Reader, &keys(t)[v].PublicKey, []byte("encrypt-key-for-v"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ring.UnwrapRandomKey(v, base64.StdEncoding.EncodeToString(ct))
		if err != nil || string(got) != "encrypt-key-for-v" {
			t.Fatalf("version %d: %q %v", v, got, err)
		}
		other := 3 - v
		if _, err := ring.UnwrapRandomKey(other, base64.StdEncoding.EncodeToString(ct)); err == nil {
			t.Fatalf("version %d ciphertext opened with key %d", v, other)
		}
	}
	if _, err := ring.UnwrapRandomKey(7, "AAAA"); !errors.Is(err, wxcrypt.ErrNoKeyForVersion) {
		t.Fatalf("missing version: %v", err)
	}
}

// A key rotation: messages under v1 then v2. A ring with both reads all;
// a ring missing v2 captures the v1 messages and stops before the first v2
// one, cursor included, until the key is added.
func TestPullAcrossKeyVersions(t *testing.T) {
	fake := newFake(t)
	addTexts(t, fake, "v1", 3)
	if err := fake.SetKeyVersion(2); err != nil {
		t.Fatal(err)
	}
	addTexts(t, fake, "v2", 2)
	dir := t.TempDir()
	ctx := context.Background()

	ch, err := wecomarchive.NewWithOptions(params(t, dir, 1), testOptions(fake))
	if err != nil {
		t.Fatal(err)
	}
	sink := &connectortest.Sink{}
	err = wecomarchive.PullAll(ch, ctx, sink)
	if err == nil {
		t.Fatal("pull with a missing key version succeeded")
	}
	if got := countMessages(sink.Records()); got != 3 || ch.Cursor() != 3 {
		t.Fatalf("captured %d, cursor %d; want 3 and 3", got, ch.Cursor())
	}

	ch2, err := wecomarchive.NewWithOptions(params(t, dir, 1, 2), testOptions(fake))
	if err != nil {
		t.Fatal(err)
	}
	if err := wecomarchive.PullAll(ch2, ctx, sink); err != nil {
		t.Fatal(err)
	}
	recs := sink.Records()
	if got := countMessages(recs); got != 5 || ch2.Cursor() != 5 {
		t.Fatalf("captured %d, cursor %d; want 5 and 5", got, ch2.Cursor())
	}
	vers := map[string]int{}
	for _, r := range recs {
		if r.Kind != "system" {
			vers[r.Provenance.KeyVersion]++
		}
	}
	if vers["1"] != 3 || vers["2"] != 2 {
		t.Fatalf("key versions %v", vers)
	}
}
