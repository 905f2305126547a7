package api

import (
	"context"
	"fmt"
	"strings"

	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/naming"
)

// ReviewGroup is the API group of the virtual resources that Kubernetes RBAC
// grants on the archive: a ClusterRole with `list` on `messages` in group
// review.vigil.dev lets a reviewer search archived messages.
const ReviewGroup = "review.vigil.dev"

// Virtual resources of ReviewGroup.
const (
	ResourceMessages = "messages"
	ResourceAudit    = "audit"
	// ResourceExports: `create` lets a reviewer produce eDiscovery exports.
	ResourceExports = "exports"
)

// Authorizer decides what an identity may do beyond the fixed rules (a
// connector writes only its own account; admin subjects run purges and holds).
type Authorizer interface {
	// Allowed reports whether id may do verb on resource of ReviewGroup in
	// namespace ("" for cluster scope).
	Allowed(ctx context.Context, id Identity, verb, resource, namespace string) (bool, error)
}

// SubjectAccessReviewAuthorizer asks the Kubernetes API server, so reviewer
// access is granted and revoked with ordinary RBAC.
type SubjectAccessReviewAuthorizer struct {
	Client kubernetes.Interface
}

// Allowed implements Authorizer.
func (a SubjectAccessReviewAuthorizer) Allowed(ctx context.Context, id Identity, verb, resource, namespace string) (bool, error) {
	sar, err := a.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authzv1.SubjectAccessReview{
		Spec: authzv1.SubjectAccessReviewSpec{
			User:   id.Username,
			Groups: id.Groups,
			ResourceAttributes: &authzv1.ResourceAttributes{
				Group: ReviewGroup, Resource: resource, Verb: verb, Namespace: namespace,
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("while asking the API server whether %s may %s %s: %w", id.Username, verb, resource, err)
	}
	return sar.Status.Allowed, nil
}

// NoAuthorizer grants nothing beyond the fixed rules; for archives run
// without a Kubernetes API server.
type NoAuthorizer struct{}

// Allowed implements Authorizer.
func (NoAuthorizer) Allowed(context.Context, Identity, string, string, string) (bool, error) {
	return false, nil
}

// serviceAccountPrefix starts the username of every ServiceAccount token.
const serviceAccountPrefix = "system:serviceaccount:"

// mayIngest reports whether id is the connector of account: the
// ServiceAccount the operator renders for that account, in its namespace.
// Nothing else may write records, so a stolen connector token can forge
// messages only for its own account.
func mayIngest(id Identity, account store.AccountKey) bool {
	rest, ok := strings.CutPrefix(id.Username, serviceAccountPrefix)
	if !ok {
		return false
	}
	ns, sa, ok := strings.Cut(rest, ":")
	return ok && ns == account.Namespace() && sa == naming.ConnectorName(account.Name())
}
