package api

import (
	"context"
	"errors"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vigil-operator/vigil/internal/testenv"
)

// TestKubernetesAuthOnARealAPIServer checks TokenReview authentication and
// SubjectAccessReview authorization against a real kube-apiserver.
func TestKubernetesAuthOnARealAPIServer(t *testing.T) {
	env, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	cs := kubernetes.NewForConfigOrDie(env.Config)
	ctx := context.Background()
	ns := "desk"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "trader-li-connector"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	token := func(audience string) string {
		tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "trader-li-connector",
			&authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{Audiences: []string{audience}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return tr.Status.Token
	}

	authn := NewTokenReviewAuthenticator(cs, "vigil-archive")
	id, err := authn.Authenticate(ctx, token("vigil-archive"))
	if err != nil {
		t.Fatal(err)
	}
	if id.Username != "system:serviceaccount:desk:trader-li-connector" || !mayIngest(id, "desk/trader-li") || mayIngest(id, "desk/trader-wu") {
		t.Fatalf("identity %+v", id)
	}
	// A token for the API server, or for another service, is not accepted:
	// the archive cannot be reached with a token stolen from elsewhere.
	for _, aud := range []string{"https://kubernetes.default.svc", "some-other-service"} {
		if _, err := authn.Authenticate(ctx, token(aud)); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("a token for %s: %v", aud, err)
		}
	}
	if _, err := authn.Authenticate(ctx, "garbage"); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("garbage: %v", err)
	}

	// Reviewer access is plain RBAC on the virtual resources.
	authz := SubjectAccessReviewAuthorizer{Client: cs}
	reviewer := Identity{Username: "alice@example.com", Groups: []string{"compliance"}}
	if ok, err := authz.Allowed(ctx, reviewer, "list", ResourceMessages, ns); err != nil || ok {
		t.Fatalf("allowed before any grant: %v %v", ok, err)
	}
	if _, err := cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "reviewer"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{ReviewGroup}, Resources: []string{ResourceMessages}, Verbs: []string{"list"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "reviewers"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "reviewer"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "compliance"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The API server's RBAC authorizer reads Roles through informers, so a
	// new grant takes effect after a short delay.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := authz.Allowed(ctx, reviewer, "list", ResourceMessages, ns)
		if err == nil && ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not allowed 10 s after the grant: %v %v", ok, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ok, _ := authz.Allowed(ctx, reviewer, "list", ResourceMessages, "other"); ok {
		t.Fatal("the grant leaked to another namespace")
	}
}
