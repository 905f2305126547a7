package controller

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	"github.com/vigil-operator/vigil/internal/naming"
	"github.com/vigil-operator/vigil/internal/scheme"
	"github.com/vigil-operator/vigil/internal/testenv"
)

// The envtest suite runs the four controllers in a real manager against a real
// kube-apiserver and etcd, and a real archive server on SQLite. Envtest runs no
// built-in controllers, so tests stand in for the StatefulSet controller by
// writing the StatefulSet's status; `vigil dev` and the end-to-end tests run
// the real one.
var (
	k8s       client.Client
	arch      *testArchive
	nsCounter atomic.Int32
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.Level(zapcore.Level(zapLevel()))))
	env, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	k8s = env.Client

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	arch, err = startTestArchive(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer arch.stop()

	// The manager's client limits as `vigil manager` sets them by default.
	mgrConfig := rest.CopyConfig(env.Config)
	mgrConfig.QPS, mgrConfig.Burst = 50, 100
	mgr, err := ctrl.NewManager(mgrConfig, ctrl.Options{
		Scheme:                 scheme.New(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: new(true)},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	err = Setup(ctx, mgr, Options{
		Archive: arch.client,
		Clock:   clock.RealClock{},
		Actor:   "system:serviceaccount:vigil-system:vigil-manager",
		Connector: ConnectorOptions{
			Image:            "vigil:test",
			ArchiveURL:       arch.url,
			ArchiveNamespace: "vigil-system",
			ArchiveSelector:  map[string]string{"app.kubernetes.io/name": "vigil-archive"},
		},
		MaxConcurrentReconciles: 4,
		StatsInterval:           time.Second,
		HoldRefreshInterval:     time.Second,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	return m.Run()
}

func zapLevel() int8 {
	if os.Getenv("VIGIL_TEST_VERBOSE") != "" {
		return -1
	}
	return 1 // errors only
}

// newNamespace gives each test its own namespace: envtest cannot delete namespaces.
func newNamespace(t testing.TB, labels map[string]string) string {
	t.Helper()
	name := fmt.Sprintf("t%d-%s", nsCounter.Add(1), strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())))
	if len(name) > 60 {
		name = name[:60]
	}
	name = strings.TrimRight(name, "-")
	if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}); err != nil {
		t.Fatal(err)
	}
	return name
}

func create(t testing.TB, obj client.Object) {
	t.Helper()
	if err := k8s.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

// update re-reads obj, applies mutate and writes it, retrying on conflicts
// with the controllers' own writes.
func update(t testing.TB, obj client.Object, mutate func()) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		mutate()
		return k8s.Update(context.Background(), obj)
	})
	if err != nil {
		t.Fatalf("updating %T %s: %v", obj, obj.GetName(), err)
	}
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s (last error: %v)", timeout, what, lastErr)
}

// markConnectorReady stands in for the StatefulSet controller and kubelet.
func markConnectorReady(t testing.TB, ns, account string) {
	t.Helper()
	sts := &appsv1.StatefulSet{}
	eventually(t, 20*time.Second, "the connector StatefulSet", func() (bool, error) {
		err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: naming.ConnectorName(account)}, sts)
		return err == nil, client.IgnoreNotFound(err)
	})
	sts.Status = appsv1.StatefulSetStatus{
		ObservedGeneration: sts.Generation, Replicas: 1, ReadyReplicas: 1, CurrentReplicas: 1,
		UpdatedReplicas: 1, AvailableReplicas: 1,
	}
	if err := k8s.Status().Update(context.Background(), sts); err != nil {
		t.Fatalf("marking the connector ready: %v", err)
	}
}

func getAccount(t testing.TB, ns, name string) *v1alpha1.MonitoredAccount {
	t.Helper()
	a := &v1alpha1.MonitoredAccount{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, a); err != nil {
		t.Fatal(err)
	}
	return a
}

func waitCondition(t testing.TB, obj client.Object, conds func() []metav1.Condition, condType string, status metav1.ConditionStatus, reason string) {
	t.Helper()
	key := client.ObjectKeyFromObject(obj)
	var last *metav1.Condition
	eventually(t, 30*time.Second, fmt.Sprintf("%s %s=%s/%s", key, condType, status, reason), func() (bool, error) {
		if err := k8s.Get(context.Background(), key, obj); err != nil {
			return false, err
		}
		last = meta.FindStatusCondition(conds(), condType)
		return last != nil && last.Status == status && (reason == "" || last.Reason == reason), fmt.Errorf("condition is %+v", last)
	})
}

func webhookAccount(ns, name string, labels map[string]string) *v1alpha1.MonitoredAccount {
	return &v1alpha1.MonitoredAccount{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: v1alpha1.MonitoredAccountSpec{
			Channel:              v1alpha1.ChannelWebhook,
			ExternalID:           name,
			Custodian:            v1alpha1.Custodian{Name: "Custodian of " + name},
			CredentialsSecretRef: &v1alpha1.LocalObjectReference{Name: name + "-creds"},
		},
	}
}

func webhookSecret(ns, name string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-creds", Namespace: ns},
		Data:       map[string][]byte{"hmacSecret": []byte(strings.Repeat("k", 40))},
	}
}

func keywordPolicy(ns, name string, selector map[string]string, terms ...string) *v1alpha1.CompliancePolicy {
	return &v1alpha1.CompliancePolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.CompliancePolicySpec{
			AccountSelector: metav1.LabelSelector{MatchLabels: selector},
			Rules: []v1alpha1.PolicyRule{{
				Name: "terms", Category: "InsiderTrading", Severity: v1alpha1.SeverityHigh,
				Keywords: &v1alpha1.KeywordsMatcher{Terms: terms},
			}},
		},
	}
}
