//go:build tools

// Package tools pins the helm command that hack/setup-helm.sh builds for the
// chart tests, so that its go.sum is committed and every machine builds the
// same helm from the Go module proxy.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
