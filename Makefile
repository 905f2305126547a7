# Vigil: compliance capture for chat channels, as a Kubernetes operator.
# `make dev` runs the whole system on this machine; `make test` runs every test tier.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

GO ?= go
LOCALBIN ?= $(CURDIR)/bin
export PATH := $(LOCALBIN):$(PATH)
export GOFLAGS ?= -mod=mod

CONTROLLER_TOOLS_VERSION ?= v0.23.0
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
ENVTEST_K8S_VERSION ?= 1.37.2
IMG ?= ghcr.io/vigil-operator/vigil:dev

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-18s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs and RBAC from the Go markers.
	$(CONTROLLER_GEN) rbac:roleName=vigil-manager crd paths="./api/..." paths="./internal/controller/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	hack/sync-chart-crds.sh

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: verify
verify: manifests generate ## Fail when generated files drift from what is committed.
	@if [ -n "$$(git status --porcelain -- api config charts/vigil/crds)" ]; then \
		echo "Generated files are out of date; run 'make manifests generate' and commit:"; \
		git status --porcelain -- api config charts/vigil/crds; git diff --stat -- api config charts/vigil/crds; exit 1; fi

.PHONY: tables
tables: ## Regenerate the policy engine's fold table from OpenCC and Unicode data (Debian packages).
	hack/install-deps.sh tables
	$(GO) run ./hack/genfold --out internal/policy/normalize/fold.tsv

.PHONY: fmt
fmt: ## Run gofmt.
	gofmt -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet.
	$(GO) vet ./...

.PHONY: envtest
envtest: ## Build kube-apiserver, etcd and kube-controller-manager from Go modules (once).
	hack/setup-envtest.sh

.PHONY: test
test: ## Run every test tier: unit, envtest controllers, archive, chart, end-to-end on vigil dev.
	hack/test.sh

.PHONY: bench
bench: ## Run the benchmarks, each beside its baseline.
	hack/bench.sh

##@ Build

.PHONY: build
build: ## Build the vigil binary.
	CGO_ENABLED=0 $(GO) build -trimpath -o $(LOCALBIN)/vigil ./cmd

.PHONY: image
image: ## Build the OCI image tarball bin/vigil-image.tar (linux/amd64) without a Docker engine.
	GOOS=linux GOARCH=amd64 CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o $(LOCALBIN)/linux-amd64/vigil ./cmd
	$(GO) run ./hack/image --binary-dir $(LOCALBIN)/linux-amd64 --tag $(IMG) --out $(LOCALBIN)/vigil-image.tar

.PHONY: dev
dev: build envtest ## Run the whole system locally (control plane, operator, archive, connectors, sample traffic).
	$(LOCALBIN)/vigil dev --state-dir .dev

##@ Tools

$(CONTROLLER_GEN):
	GOBIN=$(LOCALBIN) $(GO) install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	mv -f $(LOCALBIN)/controller-gen $(CONTROLLER_GEN)

##@ Packaging

.PHONY: helm-lint
helm-lint: ## Lint the Helm chart with a helm built from its Go module (hack/setup-helm.sh).
	"$$(hack/setup-helm.sh | tail -n 1)" lint --strict charts/vigil

.PHONY: test-packaging
test-packaging: ## Run the packaging tests only: chart, kustomize, OCI image, dry-run apply on envtest.
	HELM="$$(hack/setup-helm.sh | tail -n 1)" KUBEBUILDER_ASSETS="$$(hack/setup-envtest.sh | tail -n 1)" \
		$(GO) test -count=1 ./test/packaging/... ./hack/image/...
