#!/usr/bin/env bash
# `make bench`: every benchmark, each printed beside its baseline from the same
# run (DESIGN.md section 7). Figures depend on the machine; compare pairs, not
# absolute numbers across machines.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export GOFLAGS="${GOFLAGS:--mod=mod}"
KUBEBUILDER_ASSETS="$(hack/setup-envtest.sh | tail -n 1)"
export KUBEBUILDER_ASSETS
# The segment benchmarks write to a real S3 server with Object Lock.
hack/install-s3-server.sh >/dev/null

# Packages with benchmarks, found rather than listed so new ones are included.
pkgs=$(grep -rl --include='*_test.go' -E '^func Benchmark' . | xargs -n1 dirname | sort -u)
for p in $pkgs; do
	echo "=== $p"
	# Heavy envtest benchmarks run a fixed number of times; the rest 1 s each.
	benchtime=1s
	[[ "$p" == ./internal/controller ]] && benchtime=3x
	go test -run '^$' -bench . -benchmem -benchtime "$benchtime" -count 1 "$p"
done

# The policy engine on a generated 50 MiB mixed-language corpus, beside
# ripgrep and a naive one-regexp-per-rule engine on the same corpus.
echo "=== policy engine (test/bench/policybench)"
hack/install-deps.sh bench
go run ./test/bench/policybench
