// Package scheme builds the runtime.Scheme every vigil component uses: the
// built-in kinds and compliance.vigil.dev/v1alpha1.
package scheme

import (
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
)

// New returns a scheme with the built-in kinds and Vigil's.
func New() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}
