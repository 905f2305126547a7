#!/usr/bin/env bash
# Copies the generated CRDs into the Helm chart, so the chart never carries a
# hand-edited CRD. Run by `make manifests`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d charts/vigil ] || exit 0
mkdir -p charts/vigil/crds
rm -f charts/vigil/crds/*.yaml
cp config/crd/bases/*.yaml charts/vigil/crds/
