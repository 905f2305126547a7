package controller

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
	"github.com/vigil-operator/vigil/internal/naming"
)

func TestAccountRendersConnectorAndBecomesReady(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, nil)
	labels := map[string]string{"desk": "equities"}
	create(t, webhookSecret(ns, "li"))
	create(t, keywordPolicy(ns, "insider", labels, "内幕消息"))
	acct := webhookAccount(ns, "li", labels)
	create(t, acct)

	conds := func() []metav1.Condition { return acct.Status.Conditions }
	waitCondition(t, acct, conds, v1alpha1.ConditionConnectorAvailable, metav1.ConditionFalse, v1alpha1.ReasonConnectorProgressing)

	// Every rendered object exists, is owned by the account, and was written by
	// server-side apply under the controller's field manager.
	name := naming.ConnectorName("li")
	for _, obj := range []client.Object{&corev1.ServiceAccount{}, &corev1.ConfigMap{}, &corev1.Service{},
		&networkingv1.NetworkPolicy{}, &appsv1.StatefulSet{}} {
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
			t.Fatalf("%T %s: %v", obj, name, err)
		}
		refs := obj.GetOwnerReferences()
		if len(refs) != 1 || refs[0].UID != acct.UID || refs[0].Controller == nil || !*refs[0].Controller {
			t.Fatalf("%T is not controlled by the account: %+v", obj, refs)
		}
		managed := false
		for _, mf := range obj.GetManagedFields() {
			managed = managed || (mf.Manager == string(fieldOwner) && mf.Operation == metav1.ManagedFieldsOperationApply)
		}
		if !managed {
			t.Fatalf("%T was not server-side applied by %s", obj, fieldOwner)
		}
	}

	markConnectorReady(t, ns, "li")
	waitCondition(t, acct, conds, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonReady)
	if got := acct.Status.AttachedPolicies; len(got) != 1 || got[0] != "insider" {
		t.Fatalf("attachedPolicies = %v", got)
	}
	if !strings.HasPrefix(acct.Status.PolicyBundleDigest, "sha256:") {
		t.Fatalf("policyBundleDigest = %q", acct.Status.PolicyBundleDigest)
	}
	if acct.Status.ObservedGeneration != acct.Generation {
		t.Fatalf("observedGeneration %d != generation %d", acct.Status.ObservedGeneration, acct.Generation)
	}

	// The policy bundle in the ConfigMap is what the status digest says.
	cm := &corev1.ConfigMap{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, cm); err != nil {
		t.Fatal(err)
	}
	if got := cc.Digest([]byte(cm.Data[cc.PoliciesKey])); got != acct.Status.PolicyBundleDigest {
		t.Fatalf("ConfigMap bundle digest %s != status %s", got, acct.Status.PolicyBundleDigest)
	}
	if !strings.Contains(cm.Data[cc.PoliciesKey], "内幕消息") {
		t.Fatal("the bundle carries the policy's terms")
	}

	// Transitions were announced as Events.
	eventually(t, 10*time.Second, "a ConnectorAvailable event", func() (bool, error) {
		return hasEvent(ctx, ns, "li", v1alpha1.ReasonConnectorReady), nil
	})
}

func TestAccountCredentialsAreChecked(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, nil)
	acct := webhookAccount(ns, "wu", nil)
	create(t, acct)
	conds := func() []metav1.Condition { return acct.Status.Conditions }
	waitCondition(t, acct, conds, v1alpha1.ConditionCredentialsValid, metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound)
	waitCondition(t, acct, conds, v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound)
	eventually(t, 10*time.Second, "a Warning event for the missing Secret", func() (bool, error) {
		return hasEvent(ctx, ns, "wu", v1alpha1.ReasonSecretNotFound), nil
	})

	secret := webhookSecret(ns, "wu")
	secret.Data = map[string][]byte{"hmacSecret": []byte("too-short")}
	create(t, secret)
	waitCondition(t, acct, conds, v1alpha1.ConditionCredentialsValid, metav1.ConditionFalse, v1alpha1.ReasonCredentialsInvalid)
	cond := findCondition(acct.Status.Conditions, v1alpha1.ConditionCredentialsValid)
	if strings.Contains(cond.Message, "too-short") {
		t.Fatal("a credential value leaked into status")
	}

	update(t, secret, func() { secret.Data = map[string][]byte{"other": []byte("x")} })
	waitCondition(t, acct, conds, v1alpha1.ConditionCredentialsValid, metav1.ConditionFalse, v1alpha1.ReasonSecretKeyMissing)

	update(t, secret, func() { secret.Data = map[string][]byte{"hmacSecret": []byte(strings.Repeat("s", 48))} })
	waitCondition(t, acct, conds, v1alpha1.ConditionCredentialsValid, metav1.ConditionTrue, v1alpha1.ReasonCredentialsFound)
}

func TestSuspendedAccountScalesToZero(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, nil)
	acct := &v1alpha1.MonitoredAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "sim", Namespace: ns},
		Spec: v1alpha1.MonitoredAccountSpec{Channel: v1alpha1.ChannelSimulator, ExternalID: "sim",
			Custodian: v1alpha1.Custodian{Name: "Simulated"}, State: v1alpha1.AccountSuspended},
	}
	create(t, acct)
	conds := func() []metav1.Condition { return acct.Status.Conditions }
	waitCondition(t, acct, conds, v1alpha1.ConditionConnectorAvailable, metav1.ConditionFalse, v1alpha1.ReasonConnectorSuspended)
	sts := &appsv1.StatefulSet{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: naming.ConnectorName("sim")}, sts); err != nil {
		t.Fatal(err)
	}
	if *sts.Spec.Replicas != 0 {
		t.Fatalf("replicas = %d, want 0", *sts.Spec.Replicas)
	}
	update(t, acct, func() { acct.Spec.State = v1alpha1.AccountActive })
	eventually(t, 10*time.Second, "the connector to scale back to 1", func() (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(sts), sts)
		return err == nil && *sts.Spec.Replicas == 1, err
	})
}

// TestRenderedPodPassesRestrictedPodSecurity creates a Pod from the rendered
// template in a namespace that enforces the restricted Pod Security Standard:
// the API server's admission, not our reading of it, is the judge.
func TestRenderedPodPassesRestrictedPodSecurity(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
	create(t, webhookSecret(ns, "zhao"))
	acct := webhookAccount(ns, "zhao", nil)
	create(t, acct)
	sts := &appsv1.StatefulSet{}
	eventually(t, 20*time.Second, "the connector StatefulSet", func() (bool, error) {
		err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: naming.ConnectorName("zhao")}, sts)
		return err == nil, client.IgnoreNotFound(err)
	})
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "pss-check", Namespace: ns, Labels: sts.Spec.Template.Labels},
		Spec:       *sts.Spec.Template.Spec.DeepCopy(),
	}
	// The StatefulSet controller turns the claim template into a volume; do the same.
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: "spool", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "spool-" + sts.Name + "-0"}}})
	if err := k8s.Create(ctx, pod, client.DryRunAll); err != nil {
		t.Fatalf("the connector pod is refused under restricted Pod Security: %v", err)
	}
}

// hasEvent looks for an Event by reason; events.k8s.io/v1 Events, which the
// recorder writes, are served by the core API too.
func hasEvent(ctx context.Context, ns, name, reason string) bool {
	var list corev1.EventList
	if err := k8s.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return false
	}
	for _, e := range list.Items {
		if e.InvolvedObject.Name == name && e.Reason == reason {
			return true
		}
	}
	return false
}

func findCondition(conds []metav1.Condition, t string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}
