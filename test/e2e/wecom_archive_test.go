//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	"github.com/vigil-operator/vigil/internal/cli"
)

// testWeComArchive drives the demo corporation's archive account that vigil
// dev enrols against its fake Finance SDK: a full pull with a text that fires
// a policy, an image whose media arrives in chunks, a recall, and a gap in
// the sequence, which must become a record of its own.
func testWeComArchive(t *testing.T, d *devSystem) {
	ctx := context.Background()
	b, err := os.ReadFile(filepath.Join(d.stateDir, cli.DevWeComURLFile))
	if err != nil {
		t.Fatal(err)
	}
	fake := strings.TrimSpace(string(b))
	key := client.ObjectKey{Namespace: "trading", Name: "wecom-archive-demo"}
	acct := &v1alpha1.MonitoredAccount{}
	// The first successful pull writes a capture checkpoint: evidence that
	// the puller works even before anyone talks. It is a system record, so it
	// moves the last capture time, not the message count.
	waitFor(t, 5*time.Minute, "the archive account to be Ready with its first checkpoint", func() (bool, error) {
		if err := d.k8s.Get(ctx, key, acct); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		return meta.IsStatusConditionTrue(acct.Status.Conditions, v1alpha1.ConditionReady) && acct.Status.Capture.LastHeartbeatTime != nil, nil
	})
	before := acct.Status.Capture.MessagesCaptured

	media := make([]byte, 700<<10) // two SDK chunks of at most 512 KiB
	if _, err := rand.Read(media); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(media)
	control(t, fake+"/fake/media?sdkfileid=e2e-media-1", media)
	ms := time.Now().Add(-time.Minute).UnixMilli()
	msg := func(id string, at int64, body string) string {
		return fmt.Sprintf(`{"msgid":%q,"action":"send","from":"zhangsan","tolist":["wmGAgeDQAAvQeaTqWwkMTxGMkvI7OOuQ"],"roomid":"","msgtime":%d,%s}`, id, at, body)
	}
	control(t, fake+"/fake/messages", []byte(strings.Join([]string{
		msg("e2e-text-1", ms, fmt.Sprintf(`"msgtype":"text","text":{"content":%q}`, insiderText)),
		msg("e2e-image-1", ms+1000, fmt.Sprintf(`"msgtype":"image","image":{"md5sum":%q,"filesize":%d,"sdkfileid":"e2e-media-1"}`,
			hex.EncodeToString(sum[:]), len(media))),
		strings.Replace(msg("e2e-recall-1", ms+2000, `"msgtype":"revoke","revoke":{"pre_msgid":"e2e-text-1"}`), `"action":"send"`, `"action":"recall"`, 1),
	}, "\n")))
	control(t, fake+"/fake/inject?op=gap&skip=3", nil)
	control(t, fake+"/fake/messages", []byte(msg("e2e-text-2", ms+3000, `"msgtype":"text","text":{"content":"收到, 明天开会"}`)))

	// Four messages; the gap is a system record, counted in the metrics below.
	want := before + 4
	waitFor(t, 2*time.Minute, fmt.Sprintf("the archive account to reach %d records", want), func() (bool, error) {
		if err := d.k8s.Get(ctx, key, acct); err != nil {
			return false, err
		}
		return acct.Status.Capture.MessagesCaptured >= want && acct.Status.Findings.Total >= 1, nil
	})
	if got := acct.Status.Capture.MessagesCaptured; got != want {
		t.Fatalf("messagesCaptured = %d, want exactly %d (4 messages; checkpoints and gaps are not messages)", got, want)
	}
	pod := &corev1.Pod{}
	if err := d.k8s.Get(ctx, client.ObjectKey{Namespace: key.Namespace, Name: key.Name + "-connector-0"}, pod); err != nil {
		t.Fatal(err)
	}
	metrics := get(t, fmt.Sprintf("http://%s:8080/metrics", pod.Status.PodIP))
	if n := metricValue(t, metrics, "vigil_connector_wecom_archive_gaps_total"); n < 1 {
		t.Errorf("gaps_total = %v, want at least 1", n)
	}
	if n := metricValue(t, metrics, "vigil_connector_wecom_archive_media_bytes_total"); n < float64(len(media)) {
		t.Errorf("media_bytes_total = %v, want at least %d", n, len(media))
	}
	if n := metricValue(t, metrics, "vigil_connector_wecom_archive_source_window_remaining_seconds"); n < 4*24*3600 {
		t.Errorf("source_window_remaining_seconds = %v: a current pull leaves nearly the whole 5-day window", n)
	}
	if !meta.IsStatusConditionTrue(acct.Status.Conditions, v1alpha1.ConditionCaptureHealthy) {
		t.Errorf("CaptureHealthy is not True: %+v", meta.FindStatusCondition(acct.Status.Conditions, v1alpha1.ConditionCaptureHealthy))
	}
}

func control(t *testing.T, url string, body []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("POST %s = %s", url, resp.Status)
	}
}

// metricValue reads an unlabelled sample from Prometheus text format.
func metricValue(t *testing.T, text, name string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("metric %s not exported", name)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
