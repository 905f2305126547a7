package controller

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
)

// checkCredentials sets CredentialsValid from the account's Secret: it must
// exist and hold every key the channel needs, each non-empty. Key names are
// reported; values never are.
func (r *MonitoredAccountReconciler) checkCredentials(ctx context.Context, account *v1alpha1.MonitoredAccount) error {
	set := func(status metav1.ConditionStatus, reason, message string) {
		setCondition(&account.Status.Conditions, account.Generation, v1alpha1.ConditionCredentialsValid, status, reason, message)
	}
	keys := cc.CredentialKeysFor(&account.Spec)
	if len(keys) == 0 {
		set(metav1.ConditionTrue, v1alpha1.ReasonCredentialsNotRequired, fmt.Sprintf("channel %s needs no credentials", account.Spec.Channel))
		return nil
	}
	ref := account.Spec.CredentialsSecretRef
	if ref == nil {
		// Admission refuses this; an object stored before the rule existed can still get here.
		set(metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound, "spec.credentialsSecretRef is not set")
		return nil
	}
	secret := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: account.Namespace, Name: ref.Name}, secret); err != nil {
		if apierrors.IsNotFound(err) {
			set(metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound, fmt.Sprintf("Secret %s not found", ref.Name))
			return nil
		}
		return fmt.Errorf("while reading credentials Secret %s: %w", ref.Name, err)
	}
	var missing, invalid, found []string
	for _, key := range keys {
		v, ok := secret.Data[key.Name]
		switch {
		case !ok && !key.Optional:
			missing = append(missing, key.Name)
		case !ok:
		default:
			found = append(found, key.Name)
			if msg := validateCredential(key, v); msg != "" {
				invalid = append(invalid, key.Name+" "+msg)
			}
		}
	}
	switch {
	case len(missing) > 0:
		set(metav1.ConditionFalse, v1alpha1.ReasonSecretKeyMissing,
			fmt.Sprintf("Secret %s lacks key(s) %s needed by channel %s", ref.Name, strings.Join(missing, ", "), account.Spec.Channel))
	case len(invalid) > 0:
		set(metav1.ConditionFalse, v1alpha1.ReasonCredentialsInvalid,
			fmt.Sprintf("Secret %s: %s", ref.Name, strings.Join(invalid, "; ")))
	default:
		set(metav1.ConditionTrue, v1alpha1.ReasonCredentialsFound,
			fmt.Sprintf("Secret %s holds %s", ref.Name, strings.Join(found, ", ")))
	}
	return nil
}

// validateCredential checks one credential's shape without revealing it; it
// returns what is wrong, or "".
func validateCredential(key cc.CredentialKey, value []byte) string {
	if len(strings.TrimSpace(string(value))) == 0 {
		return "is empty"
	}
	if key.Check != nil {
		return key.Check(value)
	}
	return ""
}
