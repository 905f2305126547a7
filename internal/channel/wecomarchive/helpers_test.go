package wecomarchive_test

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/channel/wecomarchive"
	"github.com/vigil-operator/vigil/internal/channel/wecomarchive/fakesdk"
	"github.com/vigil-operator/vigil/internal/connector"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

const testCorp = "wwtestcorp0001"

var (
	keysOnce sync.Once
	testKeys map[int]*rsa.PrivateKey
	keysErr  error
)

// keys returns archive keys for versions 1 and 2, generated once.
func keys(t testing.TB) map[int]*rsa.PrivateKey {
	t.Helper()
	keysOnce.Do(func() { testKeys, _, keysErr = fakesdk.GenerateKeys(1, 2) })
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return testKeys
}

// bundle is the privateKeys PEM of the versions given.
func bundle(t testing.TB, versions ...int) []byte {
	var b []byte
	for _, v := range versions {
		b = append(b, wxcrypt.EncodeKey(v, keys(t)[v])...)
	}
	return b
}

// newFake is an empty fake archive whose keys are versions 1 and 2,
// adding at version 1.
func newFake(t testing.TB) *fakesdk.SDK {
	t.Helper()
	s, err := fakesdk.New(fakesdk.PublicKeys(keys(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetKeyVersion(1); err != nil {
		t.Fatal(err)
	}
	return s
}

func params(t testing.TB, stateDir string, versions ...int) connector.ChannelParams {
	return connector.ChannelParams{
		Account:    "ns/archive",
		ExternalID: testCorp,
		Credentials: map[string][]byte{
			cc.KeyCorpSecret:  []byte("archive-secret"),
			cc.KeyPrivateKeys: bundle(t, versions...),
		},
		Settings:   map[string]string{},
		Logger:     logr.Discard(),
		Registerer: prometheus.NewRegistry(),
		StateDir:   stateDir,
	}
}

// testOptions are quick options without the msgaudit APIs.
func testOptions(sdk wecomarchive.ArchiveSDK) wecomarchive.Options {
	return wecomarchive.Options{SDK: sdk, RatePerMinute: 60000, PermitListEvery: -1,
		RetryInitial: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond, MediaRetryGap: time.Millisecond}
}

func textMsg(id, from, to string, at int64, content string) []byte {
	b, _ := json.Marshal(map[string]any{"msgid": id, "action": "send", "from": from, "tolist": []string{to}, "roomid": "",
		"msgtime": at, "msgtype": "text", "text": map[string]string{"content": content}})
	return b
}

func addTexts(t testing.TB, s *fakesdk.SDK, prefix string, n int) {
	t.Helper()
	for i := range n {
		if _, err := s.AddMessage(textMsg(fmt.Sprintf("%s-%d", prefix, i), "alice", "wmExternal01", 1700000000000+int64(i), "hello")); err != nil {
			t.Fatal(err)
		}
	}
}

func byType(recs []*capture.Record, msgType string) []*capture.Record {
	var out []*capture.Record
	for _, r := range recs {
		if r.MsgType == msgType {
			out = append(out, r)
		}
	}
	return out
}

func countMessages(recs []*capture.Record) int {
	n := 0
	for _, r := range recs {
		if r.Kind != capture.KindSystem {
			n++
		}
	}
	return n
}
