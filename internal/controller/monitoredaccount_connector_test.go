package controller

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
)

func testAccount(ch v1alpha1.Channel) *v1alpha1.MonitoredAccount {
	a := &v1alpha1.MonitoredAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "trader-li", Namespace: "desk", UID: "uid-1"},
		Spec: v1alpha1.MonitoredAccountSpec{
			Channel:    ch,
			ExternalID: "li.wei",
			Custodian:  v1alpha1.Custodian{Name: "Li Wei"},
		},
	}
	if ch == v1alpha1.ChannelWebhook {
		a.Spec.CredentialsSecretRef = &v1alpha1.LocalObjectReference{Name: "li-creds"}
	}
	return a
}

var testOpts = ConnectorOptions{Image: "vigil:test", ArchiveURL: "http://vigil-archive.vigil-system.svc:8080",
	ArchiveNamespace: "vigil-system", ArchiveSelector: map[string]string{"app.kubernetes.io/name": "vigil-archive"}}

func TestRenderConnectorIsRestrictedAndOwned(t *testing.T) {
	account := testAccount(v1alpha1.ChannelWebhook)
	config, err := renderConnectorConfig(account)
	if err != nil {
		t.Fatal(err)
	}
	rc := renderConnector(account, testOpts, config, []byte(`{"policies":[]}`))

	sts := rc.statefulSet
	if got := *sts.Name; got != "trader-li-connector" {
		t.Fatalf("StatefulSet name = %q", got)
	}
	if *sts.Spec.Replicas != 1 {
		t.Fatalf("replicas = %d, want 1", *sts.Spec.Replicas)
	}
	for _, refs := range [][]*bool{
		{sts.OwnerReferences[0].Controller}, {rc.configMap.OwnerReferences[0].Controller},
		{rc.service.OwnerReferences[0].Controller}, {rc.serviceAccount.OwnerReferences[0].Controller},
		{rc.networkPolicy.OwnerReferences[0].Controller},
	} {
		if !ptr.Deref(refs[0], false) {
			t.Fatal("every rendered object must have the account as controller owner")
		}
	}
	pod := sts.Spec.Template.Spec
	if !*pod.SecurityContext.RunAsNonRoot || *pod.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Fatal("pod must run as non-root with the RuntimeDefault seccomp profile")
	}
	if ptr.Deref(pod.AutomountServiceAccountToken, true) {
		t.Fatal("the connector must not mount a Kubernetes API token")
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	if *sc.AllowPrivilegeEscalation || !*sc.ReadOnlyRootFilesystem || sc.Capabilities.Drop[0] != "ALL" {
		t.Fatal("container must drop all capabilities, forbid privilege escalation and use a read-only root")
	}
	args := strings.Join(c.Args, " ")
	for _, want := range []string{"connector", "--account=desk/trader-li", "--archive-url=" + testOpts.ArchiveURL, "--listen=$(POD_IP):8080"} {
		if !strings.Contains(args, want) {
			t.Fatalf("args %q lack %q", args, want)
		}
	}
	var hasCreds, hasToken bool
	for _, v := range pod.Volumes {
		if v.Secret != nil && *v.Secret.SecretName == "li-creds" {
			hasCreds = true
		}
		if v.Projected != nil && *v.Projected.Sources[0].ServiceAccountToken.Audience == cc.ArchiveAudience {
			hasToken = true
		}
	}
	if !hasCreds || !hasToken {
		t.Fatalf("volumes must include the credentials Secret (%v) and the archive-audience token (%v)", hasCreds, hasToken)
	}
	if len(rc.networkPolicy.Spec.Ingress) != 1 {
		t.Fatal("a webhook connector admits ingress on its port")
	}
	if sts.Spec.Template.Annotations[v1alpha1.AnnotationConfig] != cc.Digest(config) {
		t.Fatal("the pod template carries the config digest so identity changes roll the pod")
	}
}

func TestRenderConnectorSuspendedAndSimulator(t *testing.T) {
	account := testAccount(v1alpha1.ChannelSimulator)
	account.Spec.State = v1alpha1.AccountSuspended
	config, _ := renderConnectorConfig(account)
	rc := renderConnector(account, testOpts, config, nil)
	if *rc.statefulSet.Spec.Replicas != 0 {
		t.Fatal("a Suspended account's connector is scaled to zero")
	}
	if len(rc.networkPolicy.Spec.Ingress) != 0 {
		t.Fatal("a simulator connector takes no ingress")
	}
	for _, v := range rc.statefulSet.Spec.Template.Spec.Volumes {
		if v.Secret != nil {
			t.Fatal("a channel without credentials mounts no Secret")
		}
	}
	status, reason, _ := connectorAvailability(account, nil)
	if status != metav1.ConditionFalse || reason != v1alpha1.ReasonConnectorSuspended {
		t.Fatalf("availability = %s/%s", status, reason)
	}
}

func TestRenderConnectorIsDeterministic(t *testing.T) {
	account := testAccount(v1alpha1.ChannelWebhook)
	a, _ := renderConnectorConfig(account)
	b, _ := renderConnectorConfig(account)
	if string(a) != string(b) {
		t.Fatal("config rendering must be stable, or every reconcile would roll the pod")
	}
}

// TestRenderConnectorEgressForPullingChannels: a connector that pulls from
// the vendor may leave the cluster on the vendor's API port; a push channel's
// connector may reach only the archive and DNS.
func TestRenderConnectorEgressForPullingChannels(t *testing.T) {
	egressPorts := func(account *v1alpha1.MonitoredAccount) []int32 {
		config, _ := renderConnectorConfig(account)
		var ports []int32
		for _, rule := range renderConnector(account, testOpts, config, nil).networkPolicy.Spec.Egress {
			for _, p := range rule.Ports {
				ports = append(ports, p.Port.IntVal)
			}
		}
		return ports
	}
	archive := testAccount(v1alpha1.ChannelWeComArchive)
	if got := egressPorts(archive); !slices.Contains(got, 443) {
		t.Fatalf("the WeCom archive connector cannot reach qyapi.weixin.qq.com: egress ports %v", got)
	}
	if got := egressPorts(testAccount(v1alpha1.ChannelSlack)); slices.Contains(got, 443) {
		t.Fatalf("a Slack connector only receives; egress ports %v", got)
	}
}
