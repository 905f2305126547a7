#!/usr/bin/env bash
# Installs the Debian packages a task needs, when they are missing. Runs as
# root on the CI machine; elsewhere it says what to install.
#
#   hack/install-deps.sh          CA certificates for the OCI image and PostgreSQL
#                                 for the archive's PostgreSQL tests (make test)
#   hack/install-deps.sh tables   OpenCC and Unicode confusables (make tables)
#   hack/install-deps.sh bench    ripgrep, the peer of the policy benchmark (make bench)
set -euo pipefail
need=()
case "${1:-}" in
"")
	[[ -f /etc/ssl/certs/ca-certificates.crt ]] || need+=(ca-certificates)
	compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
	;;
tables)
	command -v opencc_dict >/dev/null || need+=(opencc)
	[[ -f /usr/lib/python3/dist-packages/confusable_homoglyphs/confusables.json ]] || need+=(python3-confusable-homoglyphs)
	;;
bench)
	command -v rg >/dev/null || need+=(ripgrep)
	;;
*)
	echo "install-deps: unknown set $1" >&2
	exit 2
	;;
esac
[[ ${#need[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]]; then
	echo "install-deps: please install: ${need[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}"
