package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
)

func retentionRuleObj(ns, name, retain string, reg v1alpha1.Regulation, selector map[string]string, schedule string) *v1alpha1.RetentionRule {
	r := &v1alpha1.RetentionRule{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.RetentionRuleSpec{
			AccountSelector: metav1.LabelSelector{MatchLabels: selector},
			Retain:          retain,
			Regulation:      reg,
			Purge:           v1alpha1.PurgeSpec{Schedule: schedule},
		},
	}
	if reg == v1alpha1.RegulationCustom {
		r.Spec.Reason = "test of purging"
	}
	return r
}

func TestRetentionPurgesOnScheduleAndSparesHolds(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, nil)
	labels := map[string]string{"desk": "rates"}
	create(t, webhookSecret(ns, "r1"))
	acct := webhookAccount(ns, "r1", labels)
	create(t, acct)

	// Ten records sent two hours ago, and five sent now.
	old := time.Now().Add(-2 * time.Hour)
	arch.ingest(t, ns, "r1", "Custodian of r1", old, 10, "old message")
	arch.ingest(t, ns, "r1", "Custodian of r1", time.Now(), 5, "new message")
	eventually(t, 20*time.Second, "the account to count 15 messages", func() (bool, error) {
		return getAccount(t, ns, "r1").Status.Capture.MessagesCaptured == 15, nil
	})

	// A hold on the account's records that mention "old message 3".
	hold := &v1alpha1.LegalHold{
		ObjectMeta: metav1.ObjectMeta{Name: "case-7", Namespace: ns},
		Spec:       v1alpha1.LegalHoldSpec{CaseID: "CASE-7", Reason: "inquiry", Accounts: []string{"r1"}, Query: "old message 3"},
	}
	create(t, hold)
	hconds := func() []metav1.Condition { return hold.Status.Conditions }
	waitCondition(t, hold, hconds, v1alpha1.ConditionHoldRegistered, metav1.ConditionTrue, v1alpha1.ReasonHoldRegistered)
	eventually(t, 20*time.Second, "the hold to hold 1 record", func() (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(hold), hold)
		return hold.Status.RecordsHeld == 1, err
	})

	// A one-hour Custom rule and a longer, suspended CIRO rule on other labels:
	// the one-hour rule governs the account.
	create(t, retentionRuleObj(ns, "ciro", "P7Y", v1alpha1.RegulationCIRO, map[string]string{"desk": "none"}, "@daily"))
	rule := retentionRuleObj(ns, "hourly", "PT1H", v1alpha1.RegulationCustom, labels, "@every 2s")
	create(t, rule)
	rconds := func() []metav1.Condition { return rule.Status.Conditions }
	waitCondition(t, rule, rconds, v1alpha1.ConditionScheduleValid, metav1.ConditionTrue, v1alpha1.ReasonScheduleParsed)
	eventually(t, 30*time.Second, "a purge of the nine unheld old records", func() (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(rule), rule)
		r := rule.Status.LastResult
		return r != nil && r.Purged == 9 && r.HeldBack == 1, fmt.Errorf("lastResult = %+v (%v)", r, err)
	})
	if rule.Status.LastResult.Certificate == "" || rule.Status.NextRun == nil || rule.Status.GovernedAccounts != 1 {
		t.Fatalf("status after purge = %+v", rule.Status)
	}
	eventually(t, 20*time.Second, "the account to count 6 messages", func() (bool, error) {
		a := getAccount(t, ns, "r1")
		return a.Status.Capture.MessagesCaptured == 6 && a.Status.EffectiveRetention != nil && a.Status.EffectiveRetention.Rule == "hourly", nil
	})
	eventually(t, 10*time.Second, "a purge event", func() (bool, error) {
		return hasEvent(ctx, ns, "hourly", v1alpha1.ReasonPurgeSucceeded), nil
	})

	// Releasing the hold lets the next purge take the held record; the release
	// is recorded in the archive first.
	if err := k8s.Delete(ctx, hold); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the LegalHold to be gone", func() (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(hold), hold)
		return client.IgnoreNotFound(err) == nil && err != nil, nil
	})
	if !arch.holdReleased(t, ns+"/case-7") {
		t.Fatal("the archive has no record of the hold's release")
	}
	eventually(t, 20*time.Second, "the account to count the 5 new messages only", func() (bool, error) {
		return getAccount(t, ns, "r1").Status.Capture.MessagesCaptured == 5, nil
	})
}

func TestRetentionReportsBadScheduleAndTimeZone(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, nil)
	rule := retentionRuleObj(ns, "bad-cron", "P7Y", v1alpha1.RegulationCIRO, nil, "every night")
	create(t, rule)
	rconds := func() []metav1.Condition { return rule.Status.Conditions }
	waitCondition(t, rule, rconds, v1alpha1.ConditionScheduleValid, metav1.ConditionFalse, v1alpha1.ReasonInvalidSchedule)
	waitCondition(t, rule, rconds, v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonInvalidSchedule)
	eventually(t, 10*time.Second, "a Warning event for the schedule", func() (bool, error) {
		return hasEvent(ctx, ns, "bad-cron", v1alpha1.ReasonInvalidSchedule), nil
	})

	update(t, rule, func() {
		rule.Spec.Purge.Schedule = "0 3 * * *"
		rule.Spec.Purge.TimeZone = "Asia/Atlantis"
	})
	waitCondition(t, rule, rconds, v1alpha1.ConditionScheduleValid, metav1.ConditionFalse, v1alpha1.ReasonInvalidTimeZone)

	update(t, rule, func() { rule.Spec.Purge.TimeZone = "America/Toronto" })
	waitCondition(t, rule, rconds, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonReady)
	loc, _ := time.LoadLocation("America/Toronto")
	if next := rule.Status.NextRun.In(loc); next.Hour() != 3 || next.Minute() != 0 {
		t.Fatalf("nextRun %v is not 03:00 in Toronto", next)
	}
}

func TestLongestRuleGovernsAndShorterRuleDoesNotPurge(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, nil)
	labels := map[string]string{"desk": "fx"}
	create(t, webhookSecret(ns, "g1"))
	create(t, webhookAccount(ns, "g1", labels))
	arch.ingest(t, ns, "g1", "Custodian of g1", time.Now().Add(-3*time.Hour), 4, "fx chat")

	// Both select g1; the two-year rule is longer, so the one-hour rule must
	// not purge g1 even though its records are past one hour.
	long := retentionRuleObj(ns, "long", "P2Y", v1alpha1.RegulationCustom, labels, "@daily")
	create(t, long)
	short := retentionRuleObj(ns, "short", "PT1H", v1alpha1.RegulationCustom, labels, "@every 2s")
	create(t, short)
	eventually(t, 30*time.Second, "the short rule to run and govern nothing", func() (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(short), short)
		r := short.Status.LastResult
		return r != nil && short.Status.SelectedAccounts == 1 && short.Status.GovernedAccounts == 0, err
	})
	if short.Status.LastResult.Purged != 0 {
		t.Fatalf("the shorter rule purged %d records of an account a longer rule governs", short.Status.LastResult.Purged)
	}
	eventually(t, 20*time.Second, "g1 to report the two-year rule", func() (bool, error) {
		a := getAccount(t, ns, "g1")
		return a.Status.EffectiveRetention != nil && a.Status.EffectiveRetention.Rule == "long" &&
			a.Status.Capture.MessagesCaptured == 4, nil
	})
}
