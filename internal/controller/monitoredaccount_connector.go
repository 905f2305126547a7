package controller

import (
	"context"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
	"github.com/vigil-operator/vigil/internal/naming"
)

// fieldOwner is the server-side apply field manager of everything the account
// controller renders.
const fieldOwner = client.FieldOwner("vigil-monitoredaccount-controller")

// ConnectorOptions are the operator-wide settings every connector is rendered with.
type ConnectorOptions struct {
	// Image of the vigil binary; an account's spec.connector.image overrides it.
	Image string
	// ArchiveURL is where connectors ship records.
	ArchiveURL string
	// ArchiveNamespace and ArchiveSelector let the NetworkPolicy admit only
	// traffic to the archive pods.
	ArchiveNamespace string
	ArchiveSelector  map[string]string
	// TokenExpirationSeconds of the projected archive token.
	TokenExpirationSeconds int64
}

// renderedConnector is the desired state of an account's connector.
type renderedConnector struct {
	serviceAccount *corev1ac.ServiceAccountApplyConfiguration
	configMap      *corev1ac.ConfigMapApplyConfiguration
	statefulSet    *appsv1ac.StatefulSetApplyConfiguration
	service        *corev1ac.ServiceApplyConfiguration
	networkPolicy  *networkingv1ac.NetworkPolicyApplyConfiguration
}

func connectorLabels(account *v1alpha1.MonitoredAccount) map[string]string {
	return map[string]string{
		v1alpha1.LabelAppName:      "vigil-connector",
		v1alpha1.LabelAppInstance:  account.Name,
		v1alpha1.LabelAppComponent: v1alpha1.ConnectorComponent,
		v1alpha1.LabelAppManagedBy: v1alpha1.ManagedByVigil,
		v1alpha1.LabelAccount:      account.Name,
	}
}

// selectorLabels are the labels the StatefulSet, Service and NetworkPolicy
// select pods by; they must never change for an existing account.
func selectorLabels(account *v1alpha1.MonitoredAccount) map[string]string {
	return map[string]string{
		v1alpha1.LabelAppName: "vigil-connector",
		v1alpha1.LabelAccount: account.Name,
	}
}

func ownerReference(account *v1alpha1.MonitoredAccount) *metav1ac.OwnerReferenceApplyConfiguration {
	return metav1ac.OwnerReference().
		WithAPIVersion(v1alpha1.GroupVersion.String()).
		WithKind("MonitoredAccount").
		WithName(account.Name).
		WithUID(account.UID).
		WithController(true).
		WithBlockOwnerDeletion(true)
}

// renderConnector builds every object of an account's connector. It is pure:
// the same inputs give the same objects, so applying them is idempotent.
func renderConnector(account *v1alpha1.MonitoredAccount, opts ConnectorOptions, config, policies []byte) *renderedConnector {
	name := naming.ConnectorName(account.Name)
	ns := account.Namespace
	labels := connectorLabels(account)
	owner := ownerReference(account)

	sa := corev1ac.ServiceAccount(name, ns).
		WithLabels(labels).
		WithOwnerReferences(owner).
		// The connector talks to the archive only, with a projected token of its
		// own audience; it needs no Kubernetes API token.
		WithAutomountServiceAccountToken(false)

	cm := corev1ac.ConfigMap(name, ns).
		WithLabels(labels).
		WithOwnerReferences(owner).
		WithData(map[string]string{cc.ConfigKey: string(config), cc.PoliciesKey: string(policies)})

	svc := corev1ac.Service(name, ns).
		WithLabels(labels).
		WithOwnerReferences(owner).
		WithSpec(corev1ac.ServiceSpec().
			WithType(corev1.ServiceTypeClusterIP).
			WithSelector(selectorLabels(account)).
			WithPorts(corev1ac.ServicePort().
				WithName("http").
				WithPort(80).
				WithTargetPort(intstr.FromString("http")).
				WithProtocol(corev1.ProtocolTCP)))

	return &renderedConnector{
		serviceAccount: sa,
		configMap:      cm,
		statefulSet:    renderStatefulSet(account, opts, name, labels, owner, cc.Digest(config)),
		service:        svc,
		networkPolicy:  renderNetworkPolicy(account, opts, name, labels, owner),
	}
}

func renderStatefulSet(account *v1alpha1.MonitoredAccount, opts ConnectorOptions, name string, labels map[string]string,
	owner *metav1ac.OwnerReferenceApplyConfiguration, configDigest string) *appsv1ac.StatefulSetApplyConfiguration {
	image := opts.Image
	if account.Spec.Connector.Image != "" {
		image = account.Spec.Connector.Image
	}
	replicas := int32(1)
	if account.Spec.State == v1alpha1.AccountSuspended {
		replicas = 0
	}
	spoolSize := resource.MustParse("1Gi")
	if account.Spec.Connector.SpoolSize != nil {
		spoolSize = *account.Spec.Connector.SpoolSize
	}
	tokenSeconds := opts.TokenExpirationSeconds
	if tokenSeconds == 0 {
		tokenSeconds = 3600
	}

	container := corev1ac.Container().
		WithName("connector").
		WithImage(image).
		WithImagePullPolicy(corev1.PullIfNotPresent).
		WithCommand("/vigil").
		WithArgs(
			"connector",
			"--account="+account.Namespace+"/"+account.Name,
			"--config-dir="+cc.ConfigDir,
			"--credentials-dir="+cc.CredentialsDir,
			"--spool-dir="+cc.SpoolDir,
			"--spool-max-bytes="+strconv.FormatInt(spoolSize.Value()*9/10, 10),
			"--archive-url="+opts.ArchiveURL,
			"--token-file="+cc.TokenDir+"/"+cc.TokenFile,
			// Bind to the pod IP, not every address: `vigil dev` runs many
			// connector pods as processes on one host, each with its own IP.
			"--listen=$(POD_IP):"+strconv.Itoa(cc.HTTPPort),
		).
		WithEnv(
			corev1ac.EnvVar().WithName("POD_IP").WithValueFrom(corev1ac.EnvVarSource().
				WithFieldRef(corev1ac.ObjectFieldSelector().WithFieldPath("status.podIP"))),
			corev1ac.EnvVar().WithName("POD_NAME").WithValueFrom(corev1ac.EnvVarSource().
				WithFieldRef(corev1ac.ObjectFieldSelector().WithFieldPath("metadata.name"))),
		).
		WithPorts(corev1ac.ContainerPort().WithName("http").WithContainerPort(cc.HTTPPort).WithProtocol(corev1.ProtocolTCP)).
		WithReadinessProbe(corev1ac.Probe().
			WithHTTPGet(corev1ac.HTTPGetAction().WithPath("/readyz").WithPort(intstr.FromString("http"))).
			WithPeriodSeconds(5)).
		WithLivenessProbe(corev1ac.Probe().
			WithHTTPGet(corev1ac.HTTPGetAction().WithPath("/healthz").WithPort(intstr.FromString("http"))).
			WithPeriodSeconds(10).WithFailureThreshold(6)).
		WithSecurityContext(restrictedContainerSecurityContext()).
		WithVolumeMounts(
			corev1ac.VolumeMount().WithName("config").WithMountPath(cc.ConfigDir).WithReadOnly(true),
			corev1ac.VolumeMount().WithName("archive-token").WithMountPath(cc.TokenDir).WithReadOnly(true),
			corev1ac.VolumeMount().WithName("spool").WithMountPath(cc.SpoolDir),
			corev1ac.VolumeMount().WithName("tmp").WithMountPath(cc.TmpDir),
		)
	if r := account.Spec.Connector.Resources; r != nil {
		container.WithResources(corev1ac.ResourceRequirements().WithLimits(r.Limits).WithRequests(r.Requests))
	} else {
		container.WithResources(corev1ac.ResourceRequirements().
			WithRequests(corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")}).
			WithLimits(corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")}))
	}

	volumes := []*corev1ac.VolumeApplyConfiguration{
		corev1ac.Volume().WithName("config").WithConfigMap(corev1ac.ConfigMapVolumeSource().WithName(name)),
		corev1ac.Volume().WithName("archive-token").WithProjected(corev1ac.ProjectedVolumeSource().
			WithSources(corev1ac.VolumeProjection().WithServiceAccountToken(corev1ac.ServiceAccountTokenProjection().
				WithAudience(cc.ArchiveAudience).
				WithExpirationSeconds(tokenSeconds).
				WithPath(cc.TokenFile)))),
		corev1ac.Volume().WithName("tmp").WithEmptyDir(corev1ac.EmptyDirVolumeSource().WithSizeLimit(resource.MustParse("64Mi"))),
	}
	if ref := account.Spec.CredentialsSecretRef; ref != nil {
		volumes = append(volumes, corev1ac.Volume().WithName("credentials").
			WithSecret(corev1ac.SecretVolumeSource().WithSecretName(ref.Name).WithDefaultMode(0o400)))
		container.WithVolumeMounts(corev1ac.VolumeMount().WithName("credentials").WithMountPath(cc.CredentialsDir).WithReadOnly(true))
	}

	podSpec := corev1ac.PodSpec().
		WithServiceAccountName(name).
		WithAutomountServiceAccountToken(false).
		WithEnableServiceLinks(false).
		WithSecurityContext(corev1ac.PodSecurityContext().
			WithRunAsNonRoot(true).
			WithRunAsUser(65532).
			WithRunAsGroup(65532).
			WithFSGroup(65532).
			WithSeccompProfile(corev1ac.SeccompProfile().WithType(corev1.SeccompProfileTypeRuntimeDefault))).
		WithTerminationGracePeriodSeconds(30).
		WithContainers(container).
		WithVolumes(volumes...)
	if len(account.Spec.Connector.NodeSelector) > 0 {
		podSpec.WithNodeSelector(account.Spec.Connector.NodeSelector)
	}
	for i := range account.Spec.Connector.Tolerations {
		t := account.Spec.Connector.Tolerations[i]
		tol := corev1ac.Toleration().WithKey(t.Key).WithOperator(t.Operator).WithValue(t.Value).WithEffect(t.Effect)
		if t.TolerationSeconds != nil {
			tol.WithTolerationSeconds(*t.TolerationSeconds)
		}
		podSpec.WithTolerations(tol)
	}

	return appsv1ac.StatefulSet(name, account.Namespace).
		WithLabels(labels).
		WithOwnerReferences(owner).
		WithSpec(appsv1ac.StatefulSetSpec().
			WithReplicas(replicas).
			WithServiceName(name).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(selectorLabels(account))).
			// The spool outlives pods but not the account: when the account is
			// deleted its remaining spool has been shipped or is abandoned with
			// the account, whose archived records stay.
			WithPersistentVolumeClaimRetentionPolicy(appsv1ac.StatefulSetPersistentVolumeClaimRetentionPolicy().
				WithWhenDeleted(appsv1.DeletePersistentVolumeClaimRetentionPolicyType).
				WithWhenScaled(appsv1.RetainPersistentVolumeClaimRetentionPolicyType)).
			WithTemplate(corev1ac.PodTemplateSpec().
				WithLabels(labels).
				WithAnnotations(map[string]string{v1alpha1.AnnotationConfig: configDigest}).
				WithSpec(podSpec)).
			WithVolumeClaimTemplates(corev1ac.PersistentVolumeClaim("spool", "").
				WithLabels(labels).
				WithSpec(corev1ac.PersistentVolumeClaimSpec().
					WithAccessModes(corev1.ReadWriteOnce).
					WithResources(corev1ac.VolumeResourceRequirements().
						WithRequests(corev1.ResourceList{corev1.ResourceStorage: spoolSize})))))
}

// restrictedContainerSecurityContext meets the "restricted" Pod Security Standard.
func restrictedContainerSecurityContext() *corev1ac.SecurityContextApplyConfiguration {
	return corev1ac.SecurityContext().
		WithAllowPrivilegeEscalation(false).
		WithReadOnlyRootFilesystem(true).
		WithRunAsNonRoot(true).
		WithCapabilities(corev1ac.Capabilities().WithDrop("ALL")).
		WithSeccompProfile(corev1ac.SeccompProfile().WithType(corev1.SeccompProfileTypeRuntimeDefault))
}

// renderNetworkPolicy admits webhook traffic to the connector port only for
// channels that receive webhooks, and lets the connector reach the archive,
// DNS and, for channels that pull, the vendor's API ports only.
func renderNetworkPolicy(account *v1alpha1.MonitoredAccount, opts ConnectorOptions, name string, labels map[string]string,
	owner *metav1ac.OwnerReferenceApplyConfiguration) *networkingv1ac.NetworkPolicyApplyConfiguration {
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	spec := networkingv1ac.NetworkPolicySpec().
		WithPodSelector(metav1ac.LabelSelector().WithMatchLabels(selectorLabels(account))).
		WithPolicyTypes(networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress)

	// Probes come from the kubelet, which NetworkPolicy does not filter; ingress
	// from elsewhere is for webhook channels only.
	if cc.ReceivesWebhooks(account.Spec.Channel) {
		spec.WithIngress(networkingv1ac.NetworkPolicyIngressRule().
			WithPorts(networkingv1ac.NetworkPolicyPort().WithProtocol(tcp).WithPort(intstr.FromInt32(cc.HTTPPort))))
	}

	archivePeer := networkingv1ac.NetworkPolicyPeer().
		WithPodSelector(metav1ac.LabelSelector().WithMatchLabels(opts.ArchiveSelector))
	if opts.ArchiveNamespace != "" {
		archivePeer.WithNamespaceSelector(metav1ac.LabelSelector().
			WithMatchLabels(map[string]string{corev1.LabelMetadataName: opts.ArchiveNamespace}))
	}
	spec.WithEgress(
		networkingv1ac.NetworkPolicyEgressRule().
			WithTo(archivePeer).
			WithPorts(networkingv1ac.NetworkPolicyPort().WithProtocol(tcp).WithPort(intstr.FromInt32(cc.HTTPPort))),
		networkingv1ac.NetworkPolicyEgressRule().
			WithPorts(
				networkingv1ac.NetworkPolicyPort().WithProtocol(udp).WithPort(intstr.FromInt32(53)),
				networkingv1ac.NetworkPolicyPort().WithProtocol(tcp).WithPort(intstr.FromInt32(53))),
	)
	if ports := cc.VendorEgressPorts(&account.Spec); len(ports) > 0 {
		rule := networkingv1ac.NetworkPolicyEgressRule()
		for _, p := range ports {
			rule.WithPorts(networkingv1ac.NetworkPolicyPort().WithProtocol(tcp).WithPort(intstr.FromInt32(p)))
		}
		spec.WithEgress(rule)
	}
	return networkingv1ac.NetworkPolicy(name, account.Namespace).
		WithLabels(labels).
		WithOwnerReferences(owner).
		WithSpec(spec)
}

// applyConnector server-side applies every rendered object, the StatefulSet
// last so that what its pod mounts exists before the pod starts.
func (r *MonitoredAccountReconciler) applyConnector(ctx context.Context, rc *renderedConnector) error {
	for _, obj := range []struct {
		kind string
		ac   runtime.ApplyConfiguration
	}{
		{"ServiceAccount", rc.serviceAccount},
		{"ConfigMap", rc.configMap},
		{"Service", rc.service},
		{"NetworkPolicy", rc.networkPolicy},
		{"StatefulSet", rc.statefulSet},
	} {
		if err := r.Apply(ctx, obj.ac, fieldOwner, client.ForceOwnership); err != nil {
			return fmt.Errorf("while applying the connector %s: %w", obj.kind, err)
		}
	}
	return nil
}

// connectorAvailability reads the StatefulSet's status into ConnectorAvailable.
func connectorAvailability(account *v1alpha1.MonitoredAccount, sts *appsv1.StatefulSet) (metav1.ConditionStatus, string, string) {
	if account.Spec.State == v1alpha1.AccountSuspended {
		return metav1.ConditionFalse, v1alpha1.ReasonConnectorSuspended, "the account is Suspended: its connector is scaled to zero"
	}
	if sts == nil {
		return metav1.ConditionFalse, v1alpha1.ReasonConnectorProgressing, "the connector StatefulSet has not been observed yet"
	}
	if sts.Status.ObservedGeneration < sts.Generation {
		return metav1.ConditionFalse, v1alpha1.ReasonConnectorProgressing, "the connector StatefulSet is rolling out"
	}
	if sts.Status.ReadyReplicas < 1 || sts.Status.UpdatedReplicas < 1 {
		return metav1.ConditionFalse, v1alpha1.ReasonConnectorProgressing,
			fmt.Sprintf("waiting for the connector pod to be ready (%d ready, %d updated)", sts.Status.ReadyReplicas, sts.Status.UpdatedReplicas)
	}
	return metav1.ConditionTrue, v1alpha1.ReasonConnectorReady, "the connector pod is ready"
}

// renderConnectorConfig is the connector's config.json for the account.
func renderConnectorConfig(account *v1alpha1.MonitoredAccount) ([]byte, error) {
	state := account.Spec.State
	if state == "" {
		state = v1alpha1.AccountActive
	}
	privacy := account.Spec.Privacy.Mode
	if privacy == "" {
		privacy = v1alpha1.PrivacyStandard
	}
	f := &cc.File{
		Account:               account.Namespace + "/" + account.Name,
		Channel:               account.Spec.Channel,
		ExternalID:            account.Spec.ExternalID,
		Custodian:             account.Spec.Custodian,
		Capture:               account.Spec.Capture,
		Privacy:               privacy,
		State:                 state,
		Simulator:             account.Spec.Simulator,
		WeCom:                 account.Spec.WeCom,
		WeChatOfficialAccount: account.Spec.WeChatOfficialAccount,
		CredentialKeys:        cc.RequiredCredentialKeys(&account.Spec),
	}
	b, err := f.Marshal()
	if err != nil {
		return nil, fmt.Errorf("while rendering connector config: %w", err)
	}
	return b, nil
}
