#!/usr/bin/env bash
# Builds helm (v3) from its Go module into ~/.cache/vigil/tools/helm-<version>/helm,
# once; later runs reuse the binary. The chart tests (test/packaging) and
# `make helm-lint` use it.
#
# Why build it: helm's release binaries live on get.helm.sh, which the build
# machines cannot reach; the Go module proxy is reachable, and
# hack/tools/helm pins the exact version with a committed go.sum.
#
# Prints the binary's path on its last line.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mod="$here/tools/helm"
# The version is the one go.mod pins, so bumping helm is one `go get` there.
version="$(awk '$1 == "helm.sh/helm/v3" { print $2 }' "$mod/go.mod")"
if [[ -z "$version" ]]; then
	echo "setup-helm: helm.sh/helm/v3 is not required by $mod/go.mod" >&2
	exit 1
fi
cache="${VIGIL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil}"
dest="$cache/tools/helm-$version"
bin="$dest/helm"

# Rebuilt when the pinned module set changes (by content: a fresh clone's
# mtimes say nothing).
stamp="$(cat "$mod/go.mod" "$mod/go.sum" | sha256sum | cut -c1-16)"
if [[ ! -x "$bin" || ! -f "$bin.stamp" || "$(cat "$bin.stamp")" != "$stamp" ]]; then
	echo "setup-helm: building helm $version from its Go module (first run only; a few minutes on 2 cores)" >&2
	mkdir -p "$dest"
	# helm reads the Kubernetes version it assumes for `helm template` and for
	# its deprecation lint from these variables; its own Makefile sets them
	# from the client-go it is built with, and so do we.
	kminor="$(awk '$1 == "k8s.io/client-go" { split($2, v, "."); print v[2] }' "$mod/go.mod")"
	ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$version"
	if [[ -n "$kminor" ]]; then
		for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
			ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$kminor"
		done
	fi
	(cd "$mod" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$bin.tmp" helm.sh/helm/v3/cmd/helm)
	mv -f "$bin.tmp" "$bin"
	echo "$stamp" >"$bin.stamp"
fi
echo "$bin"
