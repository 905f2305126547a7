//go:build tools

// Package tools pins the etcd server module so that its go.sum is committed
// and hack/setup-envtest.sh builds a reproducible binary.
package tools

import _ "go.etcd.io/etcd/server/v3"
