#!/usr/bin/env bash
# Builds the envtest control plane (etcd, kube-apiserver) and kube-controller-manager
# (used by `vigil dev`) from their published Go modules into
# ~/.cache/vigil/envtest/<version>, once; later runs reuse the binaries.
#
# Why not setup-envtest: it downloads release tarballs from GitHub, which this
# project's build machines cannot reach. The Go module proxy is reachable, and the
# tools modules under hack/envtest/ pin the exact versions with committed go.sum.
#
# Prints the directory to use as KUBEBUILDER_ASSETS on its last line.
set -euo pipefail

K8S_VERSION="${ENVTEST_K8S_VERSION:-1.37.2}"
ETCD_VERSION="3.7.3"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${VIGIL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil}"
dest="$cache/envtest/$K8S_VERSION"
mkdir -p "$dest"

build() { # build <tools-module-dir> <package> <output> <version-ldflags>
	local dir="$1" pkg="$2" out="$3" ldflags="$4"
	# The stamp is the tools module's go.sum digest, not its mtime: a fresh
	# clone has new mtimes but needs no rebuild.
	local stamp
	stamp="$(cat "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -c1-16) $ldflags"
	if [[ -x "$dest/$out" && -f "$dest/$out.stamp" && "$(cat "$dest/$out.stamp")" == "$stamp" ]]; then
		return 0
	fi
	echo "setup-envtest: building $out from $pkg (first run only; several minutes on 2 cores)" >&2
	(cd "$dir" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w $ldflags" -o "$dest/$out.tmp" "$pkg")
	mv -f "$dest/$out.tmp" "$dest/$out"
	echo "$stamp" >"$dest/$out.stamp"
}

minor="$(cut -d. -f2 <<<"$K8S_VERSION")"
kver="-X k8s.io/component-base/version.gitVersion=v$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
build "$here/envtest/etcd" go.etcd.io/etcd/server/v3 etcd \
	"-X go.etcd.io/etcd/api/v3/version.Version=$ETCD_VERSION"
build "$here/envtest/kubernetes" k8s.io/kubernetes/cmd/kube-apiserver kube-apiserver "$kver"
if [[ "${ENVTEST_SKIP_CONTROLLER_MANAGER:-}" != "true" ]]; then
	build "$here/envtest/kubernetes" k8s.io/kubernetes/cmd/kube-controller-manager kube-controller-manager "$kver"
fi
echo "$dest"
