package devcluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// schedule binds a pending pod to this node when the runner can run it.
// There is no other scheduler in vigil dev, so a pod it cannot run gets a
// PodScheduled=False condition saying why, and one log line.
func (r *Runner) schedule(ctx context.Context, pod *corev1.Pod) (time.Duration, error) {
	if pod.DeletionTimestamp != nil || podIsTerminal(pod) || len(pod.Spec.SchedulingGates) > 0 {
		return 0, nil
	}
	if name := pod.Spec.SchedulerName; name != "" && name != r.opts.SchedulerName {
		return 0, nil
	}
	if reason := r.unrunnable(pod); reason != "" {
		r.mu.Lock()
		logged := r.ignored[pod.UID] == reason
		r.ignored[pod.UID] = reason
		r.mu.Unlock()
		if !logged {
			r.log.Info("Left a pod unscheduled", "pod", pod.Namespace+"/"+pod.Name, "reason", reason)
			if err := r.markUnschedulable(ctx, pod, reason); err != nil {
				return 0, err
			}
		}
		return 0, nil
	}
	r.mu.Lock()
	delete(r.ignored, pod.UID)
	r.mu.Unlock()
	binding := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Target:     corev1.ObjectReference{APIVersion: "v1", Kind: "Node", Name: r.opts.NodeName},
	}
	if err := r.cs.CoreV1().Pods(pod.Namespace).Bind(ctx, binding, metav1.CreateOptions{}); err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return 0, nil // deleted, or bound meanwhile: the next event tells
		}
		return 0, fmt.Errorf("while binding pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	r.log.Info("Bound a pod", "pod", pod.Namespace+"/"+pod.Name, "node", r.opts.NodeName)
	return 0, nil
}

// unrunnable says why this node cannot run the pod, or "" when it can.
func (r *Runner) unrunnable(pod *corev1.Pod) string {
	var foreign []string
	for _, c := range allContainers(pod) {
		if _, ok := r.binaryFor(c.Image); !ok {
			foreign = append(foreign, c.Image)
		}
	}
	if len(foreign) > 0 {
		slices.Sort(foreign)
		return fmt.Sprintf("vigil dev runs only pods whose images it has a local binary for (%s); this pod uses %s",
			strings.Join(r.imageNames(), ", "), strings.Join(slices.Compact(foreign), ", "))
	}
	nodeLabels, taints := r.node.schedulingView()
	if len(pod.Spec.NodeSelector) > 0 && !labels.SelectorFromSet(pod.Spec.NodeSelector).Matches(labels.Set(nodeLabels)) {
		return fmt.Sprintf("node %s does not match the pod's nodeSelector", r.opts.NodeName)
	}
	if aff := pod.Spec.Affinity; aff != nil && aff.NodeAffinity != nil && aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		if !matchesNodeSelector(aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution, r.opts.NodeName, nodeLabels) {
			return fmt.Sprintf("node %s does not match the pod's required node affinity", r.opts.NodeName)
		}
	}
	for i := range taints {
		t := &taints[i]
		if t.Effect == corev1.TaintEffectPreferNoSchedule {
			continue
		}
		tolerated := false
		for j := range pod.Spec.Tolerations {
			if pod.Spec.Tolerations[j].ToleratesTaint(r.log, t, false) {
				tolerated = true
				break
			}
		}
		if !tolerated {
			return fmt.Sprintf("the pod does not tolerate taint %s=%s:%s of node %s", t.Key, t.Value, t.Effect, r.opts.NodeName)
		}
	}
	return ""
}

func (r *Runner) imageNames() []string {
	names := make([]string, 0, len(r.opts.Images))
	for name := range r.opts.Images {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// binaryFor maps an image to its local binary. An image pinned by digest as
// well as tag ("name:tag@sha256:...") matches its name:tag.
func (r *Runner) binaryFor(image string) (string, bool) {
	if bin, ok := r.opts.Images[image]; ok {
		return bin, true
	}
	if at := strings.IndexByte(image, '@'); at > 0 {
		bin, ok := r.opts.Images[image[:at]]
		return bin, ok
	}
	return "", false
}

// matchesNodeSelector evaluates required node affinity: any term may match,
// and within a term every expression must.
func matchesNodeSelector(ns *corev1.NodeSelector, nodeName string, nodeLabels map[string]string) bool {
	for _, term := range ns.NodeSelectorTerms {
		if len(term.MatchExpressions) == 0 && len(term.MatchFields) == 0 {
			continue // an empty term matches nothing
		}
		if termMatches(term.MatchExpressions, labels.Set(nodeLabels)) &&
			termMatches(term.MatchFields, fields.Set{"metadata.name": nodeName}) {
			return true
		}
	}
	return false
}

func termMatches(reqs []corev1.NodeSelectorRequirement, set map[string]string) bool {
	for _, req := range reqs {
		var op selection.Operator
		switch req.Operator {
		case corev1.NodeSelectorOpIn:
			op = selection.In
		case corev1.NodeSelectorOpNotIn:
			op = selection.NotIn
		case corev1.NodeSelectorOpExists:
			op = selection.Exists
		case corev1.NodeSelectorOpDoesNotExist:
			op = selection.DoesNotExist
		case corev1.NodeSelectorOpGt:
			op = selection.GreaterThan
		case corev1.NodeSelectorOpLt:
			op = selection.LessThan
		default:
			return false
		}
		r, err := labels.NewRequirement(req.Key, op, req.Values)
		if err != nil || !r.Matches(labels.Set(set)) {
			return false
		}
	}
	return true
}

// markUnschedulable sets PodScheduled=False, as the scheduler would.
func (r *Runner) markUnschedulable(ctx context.Context, pod *corev1.Pod, reason string) error {
	updated := pod.DeepCopy()
	setPodCondition(&updated.Status, corev1.PodScheduled, corev1.ConditionFalse, corev1.PodReasonUnschedulable, reason)
	if _, err := r.cs.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		// Forget that we logged it, so the retry reports it again.
		r.mu.Lock()
		delete(r.ignored, pod.UID)
		r.mu.Unlock()
		return fmt.Errorf("while marking pod %s/%s unschedulable: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

func allContainers(pod *corev1.Pod) []corev1.Container {
	out := make([]corev1.Container, 0, len(pod.Spec.InitContainers)+len(pod.Spec.Containers))
	out = append(out, pod.Spec.InitContainers...)
	return append(out, pod.Spec.Containers...)
}

func podIsTerminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}
