#!/usr/bin/env bash
# `make test`: every test tier, on a fresh machine with nothing installed by hand
# but Go. Tiers (DESIGN.md section 7):
#   0. generated files match the Go markers; gofmt; go vet
#   1. unit tests and fuzz seeds                 (go test)
#   2. controller tests on a real kube-apiserver and etcd (envtest, built from Go modules)
#   3. archive tests on SQLite, PostgreSQL and an S3 server with Object Lock
#   4. packaging: helm lint, chart render, server-side dry-run apply, OCI image
#   5. end to end on `vigil dev`                  (test/e2e, build tag e2e)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export GOFLAGS="${GOFLAGS:--mod=mod}"
start=$SECONDS
step() { printf '\n=== %s (%ds)\n' "$*" $((SECONDS - start)); }

step "Installing system packages the tests need"
hack/install-deps.sh

step "Building envtest binaries (kube-apiserver, etcd, kube-controller-manager) from Go modules"
KUBEBUILDER_ASSETS="$(hack/setup-envtest.sh | tail -n 1)"
export KUBEBUILDER_ASSETS

if [[ -x hack/setup-helm.sh ]]; then
	step "Building helm from its Go module"
	HELM="$(hack/setup-helm.sh | tail -n 1)"
	export HELM
fi

step "Building the S3 server the segment tests check Object Lock against (MinIO, from its Go module, once)"
hack/install-s3-server.sh >/dev/null

step "Checking generated files, formatting and vet"
make --no-print-directory verify
unformatted="$(gofmt -l $(git ls-files '*.go'))"
if [[ -n "$unformatted" ]]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...

step "Unit, controller (envtest), archive and packaging tests"
go test -count=1 -timeout 30m ./...

step "End-to-end tests on vigil dev"
go test -count=1 -timeout 30m -tags e2e ./test/e2e/...

step "All tiers passed"
