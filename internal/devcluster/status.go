package devcluster

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// writeStatus reports the worker's state as the pod's status, through the
// status subresource, when it differs from what the API server has.
func (r *Runner) writeStatus(ctx context.Context, pod *corev1.Pod, w *podWorker) error {
	desired := w.desiredStatus(pod)
	if apiequality.Semantic.DeepEqual(pod.Status, desired) {
		return nil
	}
	updated := pod.DeepCopy()
	updated.Status = desired
	if _, err := r.cs.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		// A conflict means our copy is stale: the watch brings the new one
		// and the retry writes again.
		return fmt.Errorf("while updating the status of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// desiredStatus is the pod's status as the kubelet would report it. Fields
// and conditions that others own are kept.
func (w *podWorker) desiredStatus(pod *corev1.Pod) corev1.PodStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := *pod.Status.DeepCopy()
	stopped := w.terminating() && w.isDoneLocked()

	st.HostIP = hostIP
	st.HostIPs = []corev1.HostIP{{IP: hostIP}}
	if w.ip.IsValid() {
		st.PodIP = w.ip.String()
		st.PodIPs = []corev1.PodIP{{IP: st.PodIP}}
	}
	st.StartTime = ptr.To(metav1.NewTime(w.startTime).Rfc3339Copy())
	st.InitContainerStatuses = nil
	for _, c := range w.inits {
		st.InitContainerStatuses = append(st.InitContainerStatuses, w.containerStatus(c, stopped))
	}
	st.ContainerStatuses = nil
	for _, c := range w.containers {
		st.ContainerStatuses = append(st.ContainerStatuses, w.containerStatus(c, stopped))
	}

	st.Phase = w.phase()
	if st.Phase == corev1.PodFailed || st.Phase == corev1.PodSucceeded {
		st.Reason, st.Message = "", ""
	}

	var notReady []string
	for _, c := range w.containers {
		if !c.ready || stopped {
			notReady = append(notReady, c.spec.Name)
		}
	}
	for _, c := range w.inits {
		if c.kind == containerSidecar && (!c.ready || stopped) {
			notReady = append(notReady, c.spec.Name)
		}
	}
	sort.Strings(notReady)

	setPodCondition(&st, corev1.PodScheduled, corev1.ConditionTrue, "", "")
	setPodCondition(&st, corev1.PodReadyToStartContainers, boolCondition(w.sandboxReady && !stopped), "", "")
	switch {
	case w.initDone || len(w.inits) == 0 && w.sandboxReady:
		setPodCondition(&st, corev1.PodInitialized, corev1.ConditionTrue, "", "")
	case st.Phase == corev1.PodFailed:
		setPodCondition(&st, corev1.PodInitialized, corev1.ConditionFalse, "PodFailed", "")
	default:
		var pending []string
		for _, c := range w.inits {
			if c.state.Terminated == nil || c.state.Terminated.ExitCode != 0 {
				pending = append(pending, c.spec.Name)
			}
		}
		setPodCondition(&st, corev1.PodInitialized, corev1.ConditionFalse, "ContainersNotInitialized",
			fmt.Sprintf("containers with incomplete status: [%s]", strings.Join(pending, " ")))
	}
	ready, reason, msg := corev1.ConditionTrue, "", ""
	switch {
	case st.Phase == corev1.PodSucceeded || st.Phase == corev1.PodFailed:
		ready, reason = corev1.ConditionFalse, "PodCompleted"
	case len(notReady) > 0:
		ready, reason = corev1.ConditionFalse, "ContainersNotReady"
		msg = fmt.Sprintf("containers with unready status: [%s]", strings.Join(notReady, " "))
	}
	setPodCondition(&st, corev1.ContainersReady, ready, reason, msg)
	// Readiness gates are conditions others set; Ready waits for them.
	if ready == corev1.ConditionTrue {
		for _, g := range pod.Spec.ReadinessGates {
			if c := findPodCondition(&st, g.ConditionType); c == nil || c.Status != corev1.ConditionTrue {
				ready, reason = corev1.ConditionFalse, "ReadinessGatesNotReady"
				msg = fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist or is not True", g.ConditionType)
				break
			}
		}
	}
	setPodCondition(&st, corev1.PodReady, ready, reason, msg)
	return st
}

func (w *podWorker) isDoneLocked() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// phase follows the kubelet: Pending until every container has started
// once, Running while any may still run, Succeeded or Failed at the end.
func (w *podWorker) phase() corev1.PodPhase {
	if w.terminal != "" {
		return w.terminal
	}
	if !w.sandboxReady || !w.initDone && len(w.inits) > 0 {
		return corev1.PodPending
	}
	for _, c := range w.containers {
		if !c.everRan {
			return corev1.PodPending
		}
	}
	return corev1.PodRunning
}

func (w *podWorker) containerStatus(c *container, stopped bool) corev1.ContainerStatus {
	cs := corev1.ContainerStatus{
		Name:                 c.spec.Name,
		Image:                c.spec.Image,
		ImageID:              c.imageID,
		ContainerID:          c.containerID,
		RestartCount:         c.restartCount,
		Ready:                c.ready && !stopped,
		Started:              ptr.To(c.started && c.state.Running != nil && !stopped),
		State:                *c.state.DeepCopy(),
		LastTerminationState: *c.lastState.DeepCopy(),
	}
	if c.kind == containerInit {
		// A finished init container counts as ready.
		cs.Ready = c.state.Terminated != nil && c.state.Terminated.ExitCode == 0
	}
	if cs.State.Waiting == nil && cs.State.Running == nil && cs.State.Terminated == nil {
		reason, msg := reasonContainerCreating, w.sandboxMsg
		if w.sandboxReady {
			reason, msg = reasonPodInitializing, ""
		}
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: msg}
	}
	if stopped && cs.State.Running != nil {
		// The runner stopped before it saw the exit (it is shutting down).
		cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "NodeStopped", Message: "vigil dev is not running"}}
	}
	return cs
}

func boolCondition(b bool) corev1.ConditionStatus {
	if b {
		return corev1.ConditionTrue
	}
	return corev1.ConditionFalse
}

func findPodCondition(st *corev1.PodStatus, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			return &st.Conditions[i]
		}
	}
	return nil
}

// setPodCondition sets a condition, keeping its transition time when its
// status does not change.
func setPodCondition(st *corev1.PodStatus, t corev1.PodConditionType, status corev1.ConditionStatus, reason, msg string) {
	if c := findPodCondition(st, t); c != nil {
		if c.Status != status {
			c.LastTransitionTime = metav1.Now().Rfc3339Copy()
		}
		c.Status, c.Reason, c.Message = status, reason, msg
		return
	}
	st.Conditions = append(st.Conditions, corev1.PodCondition{
		Type: t, Status: status, Reason: reason, Message: msg,
		LastTransitionTime: metav1.Now().Rfc3339Copy(),
	})
}
