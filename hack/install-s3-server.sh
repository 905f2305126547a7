#!/usr/bin/env bash
# Builds the S3-compatible server the archive's segment tests run against
# (MinIO, single node, single drive) from its Go module at a pinned version
# into ~/.cache/vigil/bin/minio-<version>, once; later runs reuse the binary.
#
# Why MinIO: the segment tests assert that the *server* refuses what Object
# Lock forbids, COMPLIANCE retention and legal holds alike. Versity S3
# Gateway (Apache-2.0, builds in 2 minutes) was tried first, and v1.8.0
# lets a version under legal hold be deleted once its retention has passed,
# so it cannot serve as the reference. MinIO enforces both, and its Object
# Lock is the one Cohasset assessed. It is AGPLv3 and in maintenance mode:
# used here as a test server only, never linked into or shipped with Vigil.
#
# Why from the module proxy: MinIO publishes no community binaries any more,
# and GitHub is not reachable from the build machines. `go install
# pkg@version` checks the module against the Go checksum database, and the
# module's own go.sum pins its dependencies, so the version below fixes the
# build. It takes about 13 to 17 minutes on 2 cores, the first time only.
#
# internal/testenv.StartS3 runs this script itself when the binary is
# missing, so tests never skip for want of a server.
#
# Prints the binary's path on its last line.
set -euo pipefail

MINIO_VERSION="${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
cache="${VIGIL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil}"
dest="$cache/bin"
bin="$dest/minio-$MINIO_VERSION"
mkdir -p "$dest"

if [[ -x "$bin" ]]; then
	echo "$bin"
	exit 0
fi

# Parallel test packages may all find the binary missing; the lock makes one
# of them build while the others wait and then reuse its result.
exec 9>"$dest/.minio.lock"
flock 9
if [[ ! -x "$bin" ]]; then
	echo "install-s3-server: building MinIO $MINIO_VERSION from its Go module (first run only; about 15 minutes on 2 cores)" >&2
	work="$(mktemp -d)"
	trap 'rm -rf "$work"' EXIT
	# Outside any module (cd "$work", GOWORK=off) and without the caller's
	# GOFLAGS (make exports -mod=mod, which `go install pkg@version` rejects),
	# so only MinIO's own go.mod and go.sum decide the dependencies.
	(cd "$work" && env -u GOFLAGS GOWORK=off CGO_ENABLED=0 GOBIN="$work" \
		go install -trimpath -ldflags "-s -w" "github.com/minio/minio@$MINIO_VERSION")
	mv -f "$work/minio" "$bin.tmp"
	mv -f "$bin.tmp" "$bin"
fi
echo "$bin"
