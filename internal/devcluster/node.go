package devcluster

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
)

const (
	// leaseDuration and renewInterval follow the kubelet's defaults, so the
	// node lifecycle controller, if someone runs it, never sees the node as
	// unresponsive.
	leaseDuration  = 40 * time.Second
	renewInterval  = 10 * time.Second
	statusInterval = time.Minute
	maxPods        = 110
	hostIP         = "127.0.0.1"
)

// nodeAgent registers the Node and keeps it alive: its Lease in
// kube-node-lease every 10s, its status every minute.
type nodeAgent struct {
	cs   kubernetes.Interface
	name string
	log  logr.Logger

	mu     sync.Mutex
	labels map[string]string
	taints []corev1.Taint
	uid    string
}

func (n *nodeAgent) register(ctx context.Context, podCIDR netip.Prefix) error {
	version := "v0.0.0"
	if v, err := n.cs.Discovery().ServerVersion(); err == nil {
		version = v.GitVersion
	}
	desired := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: n.name,
			Labels: map[string]string{
				corev1.LabelHostname:   n.name,
				corev1.LabelOSStable:   runtime.GOOS,
				corev1.LabelArchStable: runtime.GOARCH,
			},
			Annotations: map[string]string{"vigil.dev/pod-runner": "vigil dev runs this node's pods as local processes"},
		},
		Spec: corev1.NodeSpec{PodCIDR: podCIDR.String(), PodCIDRs: []string{podCIDR.String()}},
	}
	node, err := n.cs.CoreV1().Nodes().Create(ctx, desired, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		node, err = n.cs.CoreV1().Nodes().Get(ctx, n.name, metav1.GetOptions{})
		if err == nil {
			// Keep labels users added; make sure ours are there.
			changed := false
			if node.Labels == nil {
				node.Labels = map[string]string{}
			}
			for k, v := range desired.Labels {
				if node.Labels[k] != v {
					node.Labels[k] = v
					changed = true
				}
			}
			if changed {
				node, err = n.cs.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{})
			}
		}
	}
	if err != nil {
		return fmt.Errorf("while registering node %s: %w", n.name, err)
	}
	n.remember(node)

	node.Status = n.status(node.Status, version)
	if _, err := n.cs.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("while reporting the status of node %s: %w", n.name, err)
	}
	if err := n.liftStartupTaints(ctx); err != nil {
		return err
	}
	if err := n.renewLease(ctx); err != nil {
		return err
	}
	n.log.Info("Registered the node", "node", n.name)
	return nil
}

// liftStartupTaints removes the not-ready and unreachable taints that the
// API server's TaintNodesByCondition admission puts on every new Node. In a
// cluster the node lifecycle controller lifts them once the kubelet reports
// Ready; vigil dev does not run that controller (see DefaultControllers), so
// the runner, which is the kubelet here, lifts them itself.
func (n *nodeAgent) liftStartupTaints(ctx context.Context) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := n.cs.CoreV1().Nodes().Get(ctx, n.name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("while reading node %s: %w", n.name, err)
		}
		kept := node.Spec.Taints[:0:0]
		for _, t := range node.Spec.Taints {
			if t.Key != corev1.TaintNodeNotReady && t.Key != corev1.TaintNodeUnreachable {
				kept = append(kept, t)
			}
		}
		if len(kept) != len(node.Spec.Taints) {
			node.Spec.Taints = kept
			if node, err = n.cs.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{}); err != nil {
				return err
			}
		}
		n.remember(node)
		return nil
	})
}

func (n *nodeAgent) remember(node *corev1.Node) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.labels = node.Labels
	n.taints = node.Spec.Taints
	n.uid = string(node.UID)
}

// schedulingView is what binding decisions look at.
func (n *nodeAgent) schedulingView() (map[string]string, []corev1.Taint) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.labels, n.taints
}

// status is the node's status: ready, with this machine's resources.
func (n *nodeAgent) status(old corev1.NodeStatus, version string) corev1.NodeStatus {
	now := metav1.Now().Rfc3339Copy()
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(hostMemory(), resource.BinarySI),
		corev1.ResourcePods:   *resource.NewQuantity(maxPods, resource.DecimalSI),
	}
	st := corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity.DeepCopy(),
		Phase:       corev1.NodeRunning,
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: hostIP},
			{Type: corev1.NodeHostName, Address: n.name},
		},
		NodeInfo: corev1.NodeSystemInfo{
			KubeletVersion:          version,
			OperatingSystem:         runtime.GOOS,
			Architecture:            runtime.GOARCH,
			ContainerRuntimeVersion: "vigil-dev://process",
			KernelVersion:           kernelVersion(),
			OSImage:                 runtime.GOOS + " (vigil dev)",
		},
	}
	conds := []struct {
		typ    corev1.NodeConditionType
		status corev1.ConditionStatus
		reason string
		msg    string
	}{
		{corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "the vigil dev pod runner is posting ready status"},
		{corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "not measured by vigil dev"},
		{corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "not measured by vigil dev"},
		{corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "not measured by vigil dev"},
	}
	for _, c := range conds {
		transition := now
		for _, o := range old.Conditions {
			if o.Type == c.typ && o.Status == c.status {
				transition = o.LastTransitionTime
			}
		}
		st.Conditions = append(st.Conditions, corev1.NodeCondition{
			Type: c.typ, Status: c.status, Reason: c.reason, Message: c.msg,
			LastHeartbeatTime: now, LastTransitionTime: transition,
		})
	}
	return st
}

// heartbeat renews the Lease and refreshes the status until ctx ends.
func (n *nodeAgent) heartbeat(ctx context.Context) {
	renew := time.NewTicker(renewInterval)
	defer renew.Stop()
	status := time.NewTicker(statusInterval)
	defer status.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-renew.C:
			if err := n.renewLease(ctx); err != nil && ctx.Err() == nil {
				n.log.Info("Could not renew the node lease", "error", err.Error())
			}
		case <-status.C:
			if err := n.updateStatus(ctx); err != nil && ctx.Err() == nil {
				n.log.Info("Could not update the node status", "error", err.Error())
			}
		}
	}
}

func (n *nodeAgent) updateStatus(ctx context.Context) error {
	node, err := n.cs.CoreV1().Nodes().Get(ctx, n.name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("while reading node %s: %w", n.name, err)
	}
	n.remember(node)
	node.Status = n.status(node.Status, node.Status.NodeInfo.KubeletVersion)
	if _, err := n.cs.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("while updating the status of node %s: %w", n.name, err)
	}
	return nil
}

func (n *nodeAgent) renewLease(ctx context.Context) error {
	leases := n.cs.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NowMicro()
	lease, err := leases.Get(ctx, n.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		n.mu.Lock()
		uid := n.uid
		n.mu.Unlock()
		lease = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: n.name, Namespace: corev1.NamespaceNodeLease},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity:       ptr.To(n.name),
				LeaseDurationSeconds: ptr.To(int32(leaseDuration / time.Second)),
				RenewTime:            &now,
			},
		}
		if uid != "" {
			// Like the kubelet's: deleting the Node deletes its Lease.
			lease.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: n.name, UID: types.UID(uid)}}
		}
		if _, err := leases.Create(ctx, lease, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("while creating the node lease: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("while reading the node lease: %w", err)
	}
	lease.Spec.HolderIdentity = ptr.To(n.name)
	lease.Spec.LeaseDurationSeconds = ptr.To(int32(leaseDuration / time.Second))
	lease.Spec.RenewTime = &now
	if _, err := leases.Update(ctx, lease, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("while renewing the node lease: %w", err)
	}
	return nil
}

// markNotReady reports that nothing runs here any more, so that kubectl
// shows the truth while vigil dev is down.
func (n *nodeAgent) markNotReady(ctx context.Context) {
	node, err := n.cs.CoreV1().Nodes().Get(ctx, n.name, metav1.GetOptions{})
	if err != nil {
		return
	}
	now := metav1.Now().Rfc3339Copy()
	for i := range node.Status.Conditions {
		c := &node.Status.Conditions[i]
		if c.Type == corev1.NodeReady {
			c.Status = corev1.ConditionFalse
			c.Reason = "KubeletStopped"
			c.Message = "vigil dev stopped; its pods run again when it starts"
			c.LastHeartbeatTime = now
			c.LastTransitionTime = now
		}
	}
	if _, err := n.cs.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		n.log.V(1).Info("Could not mark the node not ready", "error", err.Error())
	}
}

// hostMemory is MemTotal from /proc/meminfo, or 8Gi where that is unknown.
func hostMemory() int64 {
	const fallback = 8 << 30
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return fallback
	}
	defer func() { _ = f.Close() }()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			if kb, err := strconv.ParseInt(fields[1], 10, 64); err == nil {
				return kb << 10
			}
		}
	}
	return fallback
}

func kernelVersion() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
