package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
)

const benchAccounts = 100

// BenchmarkAccountsReady measures how long 100 MonitoredAccounts (each with
// its credentials Secret) take from creation to Ready: the operator renders
// five objects per account by server-side apply, checks credentials, reads
// capture statistics from the archive and writes status. Envtest runs no
// StatefulSet controller, so a goroutine stands in for it and marks each
// connector StatefulSet ready as soon as it appears.
//
// Its baseline, BenchmarkAccountsCreateOnly, creates the same objects and
// returns: the difference is the operator's work.
func BenchmarkAccountsReady(b *testing.B) {
	for b.Loop() {
		ns := newNamespace(b, nil)
		stop := standInForStatefulSetController(b, ns)
		createAccounts(b, ns)
		waitAllReady(b, ns)
		stop()
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/benchAccounts, "ms/account")
}

func BenchmarkAccountsCreateOnly(b *testing.B) {
	for b.Loop() {
		ns := newNamespace(b, nil)
		createAccounts(b, ns)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/benchAccounts, "ms/account")
}

// createAccounts creates a policy selecting the accounts (an account no
// policy supervises is not Ready) and the accounts with their Secrets.
func createAccounts(b *testing.B, ns string) {
	create(b, keywordPolicy(ns, "bench", map[string]string{"desk": "bench"}, "内幕消息", "inside information"))
	for i := range benchAccounts {
		name := fmt.Sprintf("acct-%03d", i)
		create(b, webhookSecret(ns, name))
		create(b, webhookAccount(ns, name, map[string]string{"desk": "bench"}))
	}
}

func waitAllReady(b *testing.B, ns string) {
	eventually(b, 5*time.Minute, "100 accounts Ready", func() (bool, error) {
		var list v1alpha1.MonitoredAccountList
		if err := k8s.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
			return false, err
		}
		ready, waiting := 0, ""
		for i := range list.Items {
			if meta.IsStatusConditionTrue(list.Items[i].Status.Conditions, v1alpha1.ConditionReady) {
				ready++
			} else if waiting == "" {
				waiting = fmt.Sprintf("%s: %+v", list.Items[i].Name, list.Items[i].Status.Conditions)
			}
		}
		return ready == benchAccounts, fmt.Errorf("%d of %d Ready; %s", ready, benchAccounts, waiting)
	})
}

// standInForStatefulSetController marks every connector StatefulSet of ns
// ready whenever its status lags its spec, until stopped.
func standInForStatefulSetController(b *testing.B, ns string) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			var list appsv1.StatefulSetList
			if err := k8s.List(ctx, &list, client.InNamespace(ns)); err == nil {
				for i := range list.Items {
					sts := &list.Items[i]
					if sts.Status.ObservedGeneration == sts.Generation && sts.Status.ReadyReplicas == 1 {
						continue
					}
					sts.Status = appsv1.StatefulSetStatus{ObservedGeneration: sts.Generation, Replicas: 1, ReadyReplicas: 1,
						CurrentReplicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1}
					_ = k8s.Status().Update(ctx, sts) // a conflict is retried on the next pass
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return func() { cancel(); <-done }
}
