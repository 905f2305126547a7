package controller

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
)

// captureWindow is, per channel, how long capture may be silent before the
// account is reported as lagging. Push channels (webhooks) can be legitimately
// quiet, so they have none; generated and pulled channels do. WeCom's archive
// keeps messages for only 5 days and its connector writes a checkpoint record
// after each successful pull at least hourly, so a day without any record
// means the pull is failing, with four days left to fix it.
var captureWindow = map[v1alpha1.Channel]time.Duration{
	v1alpha1.ChannelSimulator:    5 * time.Minute,
	v1alpha1.ChannelWeComArchive: 24 * time.Hour,
}

// readCaptureStats copies the archive's counts into status and sets
// CaptureHealthy. An unreachable archive leaves the last counts in place and
// makes CaptureHealthy Unknown rather than False: capture may be fine, and the
// connector spools until the archive is back.
func (r *MonitoredAccountReconciler) readCaptureStats(ctx context.Context, account *v1alpha1.MonitoredAccount) {
	set := func(status metav1.ConditionStatus, reason, message string) {
		setCondition(&account.Status.Conditions, account.Generation, v1alpha1.ConditionCaptureHealthy, status, reason, message)
	}
	stats, err := r.Archive.Stats(ctx, accountKey(account.Namespace, account.Name))
	if err != nil {
		logf.FromContext(ctx).Info("Could not read capture statistics from the archive", "error", err.Error())
		set(metav1.ConditionUnknown, v1alpha1.ReasonArchiveUnreachable, fmt.Sprintf("could not read statistics from the archive: %v", err))
		return
	}
	account.Status.Capture.MessagesCaptured = stats.MessagesCaptured
	account.Status.Capture.LastMessageTime = metaTime(stats.LastMessageTime)
	account.Status.Capture.LastHeartbeatTime = metaTime(stats.LastCaptureTime)
	account.Status.Findings.Total = stats.FindingsTotal
	account.Status.Findings.Open = stats.FindingsOpen

	now := r.Clock.Now()
	window, hasWindow := captureWindow[account.Spec.Channel]
	switch {
	case account.Spec.State == v1alpha1.AccountSuspended:
		set(metav1.ConditionTrue, v1alpha1.ReasonConnectorSuspended, "capture is suspended by the account's state")
	case stats.LastCaptureTime == nil:
		if hasWindow && now.Sub(account.CreationTimestamp.Time) > window {
			set(metav1.ConditionFalse, v1alpha1.ReasonCaptureLagging,
				fmt.Sprintf("nothing captured in the %s since the account was created", window))
			return
		}
		set(metav1.ConditionTrue, v1alpha1.ReasonAwaitingTraffic, "no message captured yet")
	case hasWindow && now.Sub(*stats.LastCaptureTime) > window:
		set(metav1.ConditionFalse, v1alpha1.ReasonCaptureLagging,
			fmt.Sprintf("last capture was %s ago; the channel's window is %s", now.Sub(*stats.LastCaptureTime).Round(time.Second), window))
	default:
		set(metav1.ConditionTrue, v1alpha1.ReasonCaptureCurrent, fmt.Sprintf("%d messages archived", stats.MessagesCaptured))
	}
}

func metaTime(t *time.Time) *metav1.Time {
	if t == nil {
		return nil
	}
	mt := metav1.NewTime(t.UTC().Truncate(time.Second))
	return &mt
}
