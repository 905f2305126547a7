//go:build e2e

// Package e2e runs Vigil end to end on `vigil dev`: a real kube-apiserver,
// etcd and kube-controller-manager, the operator, the archive, and connector
// pods run by the local pod runner. It applies YAML, sends signed webhook
// traffic, and checks what kubectl and the archive show.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	"github.com/vigil-operator/vigil/internal/channel/webhook"
	"github.com/vigil-operator/vigil/internal/scheme"
	"github.com/vigil-operator/vigil/internal/testenv"
)

const (
	ns         = "e2e"
	account    = "trader-chen"
	hmacSecret = "e2e-webhook-secret-0123456789abcdef0123456789"
)

// devSystem is a running `vigil dev`.
type devSystem struct {
	cmd      *exec.Cmd
	stateDir string
	k8s      client.Client
	cfg      *rest.Config
	done     chan error
}

func startDev(t *testing.T) *devSystem {
	t.Helper()
	root := testenv.RepoRoot()
	bin := filepath.Join(t.TempDir(), "vigil")
	build := exec.Command("go", "build", "-o", bin, "./cmd")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building vigil: %v\n%s", err, out)
	}
	state := filepath.Join(t.TempDir(), "dev")
	cmd := exec.Command(bin, "dev", "--state-dir", state, "--samples-dir", filepath.Join(root, "config", "samples"),
		"--traffic=false", "--stats-interval=2s")
	cmd.Dir = root
	logFile, err := os.Create(filepath.Join(t.TempDir(), "vigil-dev.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &devSystem{cmd: cmd, stateDir: state, done: make(chan error, 1)}
	go func() { d.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		if t.Failed() {
			logs, _ := os.ReadFile(logFile.Name())
			t.Logf("vigil dev output (last 8 KiB):\n%s", tail(logs, 8<<10))
		}
	})

	waitFor(t, 10*time.Minute, "vigil dev to report ready", func() (bool, error) {
		select {
		case err := <-d.done:
			return false, fmt.Errorf("vigil dev exited early: %v", err)
		default:
		}
		_, err := os.Stat(filepath.Join(state, "ready"))
		return err == nil, nil
	})
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(state, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	d.cfg = cfg
	d.k8s, err = client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestEndToEnd(t *testing.T) {
	d := startDev(t)
	ctx := context.Background()

	t.Run("samples become Ready", func(t *testing.T) {
		var accounts v1alpha1.MonitoredAccountList
		waitFor(t, 5*time.Minute, "every sample account to be Ready", func() (bool, error) {
			if err := d.k8s.List(ctx, &accounts); err != nil {
				return false, err
			}
			if len(accounts.Items) == 0 {
				return false, nil
			}
			for i := range accounts.Items {
				if !meta.IsStatusConditionTrue(accounts.Items[i].Status.Conditions, v1alpha1.ConditionReady) {
					return false, nil
				}
			}
			return true, nil
		})
	})

	applyYAML(t, d.k8s, fmt.Sprintf(`
apiVersion: v1
kind: Namespace
metadata:
  name: %[1]s
  labels: {pod-security.kubernetes.io/enforce: restricted}
---
apiVersion: v1
kind: Secret
metadata: {name: %[2]s-webhook, namespace: %[1]s}
stringData: {hmacSecret: %[3]s}
---
%[4]s
---
apiVersion: compliance.vigil.dev/v1alpha1
kind: MonitoredAccount
metadata: {name: %[2]s, namespace: %[1]s, labels: {desk: equities}}
spec:
  channel: Webhook
  externalID: chen.jing
  custodian: {name: Chen Jing, email: chen.jing@example.com}
  credentialsSecretRef: {name: %[2]s-webhook}
`, ns, account, hmacSecret, insiderPolicy()))

	acct := &v1alpha1.MonitoredAccount{}
	waitFor(t, 5*time.Minute, "the webhook account to be Ready", func() (bool, error) {
		if err := d.k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: account}, acct); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		return meta.IsStatusConditionTrue(acct.Status.Conditions, v1alpha1.ConditionReady), nil
	})
	if got := acct.Status.AttachedPolicies; len(got) != 1 || got[0] != "insider" {
		t.Fatalf("attachedPolicies = %v, want [insider]", got)
	}

	pod := &corev1.Pod{}
	if err := d.k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: account + "-connector-0"}, pod); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://%s:8080", pod.Status.PodIP)

	// Twelve messages, three of them about case 42, sent an hour ago so that a
	// short retention rule makes them all eligible for purge at once.
	sentAt := time.Now().Add(-time.Hour).UTC()
	var msgs []map[string]any
	for i := range 12 {
		text := fmt.Sprintf("早晨，今日开盘前我哋倾下 order %d", i)
		if i%4 == 0 {
			text = fmt.Sprintf("case-42: 有内幕消息, keep it quiet %d", i)
		}
		msgs = append(msgs, map[string]any{
			"id":           fmt.Sprintf("e2e-%d", i),
			"conversation": map[string]any{"id": "desk-chat", "type": "group"},
			"sender":       map[string]any{"id": "chen.jing", "affiliation": "internal"},
			"text":         text,
			"sentAt":       sentAt.Add(time.Duration(i) * time.Second).Format(time.RFC3339),
		})
	}
	body, _ := json.Marshal(map[string]any{"messages": msgs})

	t.Run("signed traffic is archived and counted", func(t *testing.T) {
		if code := post(t, base, body, []byte(hmacSecret), time.Now()); code != http.StatusAccepted {
			t.Fatalf("signed webhook = %d, want 202", code)
		}
		waitForCount(t, d, 12)
		// What `kubectl get macct` prints: the API server's Table view.
		row := kubectlGet(t, d, "monitoredaccounts", account)
		// Three of the messages name 内幕消息: the connector's policy engine
		// found them before shipping, and the archive counts them.
		if row["Messages"] != "12" || row["Findings"] != "3" || row["Ready"] != "True" || row["Channel"] != "Webhook" || row["Custodian"] != "Chen Jing" {
			t.Fatalf("kubectl get macct shows %v", row)
		}
	})

	t.Run("bad input is refused, counted, and stores nothing", func(t *testing.T) {
		one, _ := json.Marshal(map[string]any{"messages": msgs[:1]})
		cases := map[string]struct {
			send func() int
			want int
		}{
			"bad signature": {func() int { return post(t, base, one, []byte("wrong-secret-wrong-secret-wrong-secret"), time.Now()) }, http.StatusUnauthorized},
			"stale":         {func() int { return post(t, base, one, []byte(hmacSecret), time.Now().Add(-10*time.Minute)) }, http.StatusUnauthorized},
			"oversized":     {func() int { return post(t, base, bytes.Repeat([]byte("x"), 2<<20), []byte(hmacSecret), time.Now()) }, http.StatusRequestEntityTooLarge},
			"malformed":     {func() int { return post(t, base, []byte(`{"messages":[{"id":`), []byte(hmacSecret), time.Now()) }, http.StatusBadRequest},
		}
		for name, c := range cases {
			if got := c.send(); got != c.want {
				t.Errorf("%s: status %d, want %d", name, got, c.want)
			}
		}
		// A replay: the same signed request twice.
		ts := time.Now()
		fresh, _ := json.Marshal(map[string]any{"messages": []map[string]any{{
			"id": "e2e-replayed", "conversation": map[string]any{"id": "desk-chat"}, "sender": map[string]any{"id": "chen.jing"},
			"text": "replay me", "sentAt": sentAt.Format(time.RFC3339)}}})
		if got := post(t, base, fresh, []byte(hmacSecret), ts); got != http.StatusAccepted {
			t.Fatalf("first delivery = %d, want 202", got)
		}
		if got := post(t, base, fresh, []byte(hmacSecret), ts); got != http.StatusConflict {
			t.Fatalf("replay = %d, want 409", got)
		}
		waitForCount(t, d, 13)
		metrics := get(t, base+"/metrics")
		for _, reason := range []string{"bad_signature", "stale_timestamp", "too_large", "malformed", "replay"} {
			if !strings.Contains(metrics, `vigil_connector_webhook_rejected_total{reason="`+reason+`"}`) {
				t.Errorf("metrics lack a rejection counter for %s", reason)
			}
		}
	})

	t.Run("a legal hold keeps its records through a purge", func(t *testing.T) {
		applyYAML(t, d.k8s, fmt.Sprintf(`
apiVersion: compliance.vigil.dev/v1alpha1
kind: LegalHold
metadata: {name: case-42, namespace: %[1]s}
spec: {caseID: CASE-42, reason: regulator inquiry, accounts: [%[2]s], query: case-42}
`, ns, account))
		hold := &v1alpha1.LegalHold{}
		waitFor(t, 2*time.Minute, "the hold to hold 3 records", func() (bool, error) {
			if err := d.k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "case-42"}, hold); err != nil {
				return false, err
			}
			return hold.Status.RecordsHeld == 3, nil
		})
		applyYAML(t, d.k8s, fmt.Sprintf(`
apiVersion: compliance.vigil.dev/v1alpha1
kind: RetentionRule
metadata: {name: short, namespace: %[1]s}
spec:
  accountSelector: {matchLabels: {desk: equities}}
  retain: PT1M
  regulation: Custom
  reason: end-to-end test of purging and holds
  purge: {schedule: "@every 5s"}
`, ns))
		rule := &v1alpha1.RetentionRule{}
		waitFor(t, 2*time.Minute, "a purge that holds back the held records", func() (bool, error) {
			if err := d.k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "short"}, rule); err != nil {
				return false, err
			}
			r := rule.Status.LastResult
			return r != nil && r.HeldBack == 3 && r.Certificate != "", nil
		})
		waitForCount(t, d, 3)

		if err := d.k8s.Delete(ctx, hold); err != nil {
			t.Fatal(err)
		}
		waitForCount(t, d, 0)
	})

	t.Run("a policy change reaches the running connector without a restart", func(t *testing.T) {
		before := &corev1.Pod{}
		if err := d.k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: account + "-connector-0"}, before); err != nil {
			t.Fatal(err)
		}
		acct := &v1alpha1.MonitoredAccount{}
		if err := d.k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: account}, acct); err != nil {
			t.Fatal(err)
		}
		findingsBefore := acct.Status.Findings.Total
		applyYAML(t, d.k8s, insiderPolicy(
			`{name: guarantees, category: Custom, severity: Medium, keywords: {terms: [稳赚]}}`))
		// Until the new bundle is in, messages ship without the new
		// finding; keep sending until one carries it.
		n := 0
		waitFor(t, 2*time.Minute, "a finding of the new rule", func() (bool, error) {
			n++
			msg, _ := json.Marshal(map[string]any{"messages": []map[string]any{{
				"id": fmt.Sprintf("e2e-reload-%d", n), "conversation": map[string]any{"id": "desk-chat"},
				"sender": map[string]any{"id": "chen.jing"}, "text": "这个产品穩賺不賠", "sentAt": time.Now().UTC().Format(time.RFC3339)}}})
			if code := post(t, base, msg, []byte(hmacSecret), time.Now()); code != http.StatusAccepted {
				return false, fmt.Errorf("webhook answered %d", code)
			}
			time.Sleep(2 * time.Second)
			if err := d.k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: account}, acct); err != nil {
				return false, err
			}
			return acct.Status.Findings.Total > findingsBefore, nil
		})
		after := &corev1.Pod{}
		if err := d.k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: account + "-connector-0"}, after); err != nil {
			t.Fatal(err)
		}
		if after.UID != before.UID || restarts(after) != restarts(before) {
			t.Fatalf("the connector was replaced or restarted (uid %s -> %s, restarts %d -> %d)", before.UID, after.UID, restarts(before), restarts(after))
		}
	})

	t.Run("every channel captures its vendor's signed traffic", func(t *testing.T) {
		testChannels(t, d)
	})

	t.Run("the WeCom chat archive is pulled with media, a recall and a gap", func(t *testing.T) {
		testWeComArchive(t, d)
	})

	t.Run("Ctrl-C stops everything", func(t *testing.T) {
		if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-d.done:
			if err != nil {
				t.Fatalf("vigil dev exited with %v after Ctrl-C", err)
			}
		case <-time.After(90 * time.Second):
			t.Fatal("vigil dev did not stop within 90 s of Ctrl-C")
		}
		// Every process it started was in its process group.
		if err := syscall.Kill(-d.cmd.Process.Pid, 0); err == nil {
			t.Fatal("processes of vigil dev are still running after it exited")
		}
	})
}

// insiderPolicy is the test's CompliancePolicy for the webhook account: the
// insider-information rule, plus any extra rules (one flow mapping each).
func insiderPolicy(extraRules ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: compliance.vigil.dev/v1alpha1
kind: CompliancePolicy
metadata: {name: insider, namespace: %s}
spec:
  accountSelector: {matchLabels: {desk: equities}}
  rules:
  - {name: insider-zh, category: InsiderTrading, severity: High, keywords: {terms: [内幕消息, inside information]}}
`, ns)
	for _, r := range extraRules {
		b.WriteString("  - " + r + "\n")
	}
	return b.String()
}

func restarts(p *corev1.Pod) int32 {
	var n int32
	for _, c := range p.Status.ContainerStatuses {
		n += c.RestartCount
	}
	return n
}

func waitForCount(t *testing.T, d *devSystem, want int64) {
	t.Helper()
	acct := &v1alpha1.MonitoredAccount{}
	waitFor(t, 2*time.Minute, fmt.Sprintf("messagesCaptured to be %d", want), func() (bool, error) {
		if err := d.k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: account}, acct); err != nil {
			return false, err
		}
		return acct.Status.Capture.MessagesCaptured == want, nil
	})
}

// kubectlGet asks the API server for the table `kubectl get` prints and
// returns the named object's row, column name to cell.
func kubectlGet(t *testing.T, d *devSystem, resource, name string) map[string]string {
	t.Helper()
	hc, err := rest.HTTPClientFor(d.cfg)
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("%s/apis/compliance.vigil.dev/v1alpha1/namespaces/%s/%s/%s", strings.TrimRight(d.cfg.Host, "/"), ns, resource, name)
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var table metav1.Table
	if err := json.Unmarshal(body, &table); err != nil || len(table.Rows) != 1 {
		t.Fatalf("reading the table of %s %s: %v (%d rows): %s %.300s", resource, name, err, len(table.Rows), resp.Status, body)
	}
	row := map[string]string{}
	for i, col := range table.ColumnDefinitions {
		if i < len(table.Rows[0].Cells) {
			row[col.Name] = fmt.Sprint(table.Rows[0].Cells[i])
		}
	}
	return row
}

func post(t *testing.T, base string, body, secret []byte, ts time.Time) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+webhook.Path, bytes.NewReader(body))
	hts, hsig := webhook.Sign(secret, ts, body)
	req.Header.Set(webhook.HeaderTimestamp, hts)
	req.Header.Set(webhook.HeaderSignature, hsig)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", base, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// applyYAML creates or updates every document, as `kubectl apply` would, by
// server-side apply.
func applyYAML(t *testing.T, c client.Client, docs string) {
	t.Helper()
	for _, doc := range strings.Split(docs, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
			t.Fatalf("bad YAML: %v\n%s", err, doc)
		}
		if err := c.Patch(context.Background(), obj, client.Apply, client.FieldOwner("e2e"), client.ForceOwnership); err != nil {
			t.Fatalf("applying %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
	}
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return
		}
		if err != nil {
			lastErr = err
			if strings.Contains(err.Error(), "exited early") {
				t.Fatalf("waiting for %s: %v", what, err)
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s (last error: %v)", timeout, what, lastErr)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
