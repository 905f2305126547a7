#!/usr/bin/env bash
# Installs the Debian packages the build and tests need, when they are missing:
# CA certificates for the OCI image. Runs as root on the CI machine; elsewhere
# it says what to install.
set -euo pipefail
need=()
[[ -f /etc/ssl/certs/ca-certificates.crt ]] || need+=(ca-certificates)
[[ ${#need[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]]; then
	echo "install-deps: please install: ${need[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}"
