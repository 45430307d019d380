#!/usr/bin/env bash
# Rewrites what is generated from the config schema after a schema change: docs/configuration.md
# and the KEYS section of docs/man/gateway.yaml.5 (unit tests compare both with the schema).
# Needs a built gatewayd (tools/build.sh), or GATEWAYD=path.
#
# --compliance: rewrites docs/compliance.md instead, from a run of the RFC conformance test
# (tests/integration/rfc_conformance.sh: root, a namespace lab, about a minute and a half). The
# test's verdict is printed as well: a sheet with a gatewayd FAIL is written, and still fails the test.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
gatewayd=${GATEWAYD:-$repo/build/daemon/gatewayd}
if [[ ${1:-} == --compliance ]]; then
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
    status=0
    CONFORMANCE_UPDATE=1 CONFORMANCE_OUT=$out GATEWAYD=$gatewayd GATEWAYCTL=${GATEWAYCTL:-$(dirname "$gatewayd")/gatewayctl} \
        bash "$repo/tests/integration/rfc_conformance.sh" || status=$?
    grep -q '^# RFC compliance' "$repo/docs/compliance.md" || { echo "docs/compliance.md was not written" >&2; exit 1; }
    echo "docs/compliance.md rewritten from the conformance run (the test itself exited $status)"
    exit 0
fi
"$gatewayd" --config-reference >"$repo/docs/configuration.md"
page=$repo/docs/man/gateway.yaml.5
keys=$(mktemp)
trap 'rm -f "$keys"' EXIT
"$gatewayd" --config-reference --man >"$keys"
# Everything before .SH KEYS, the new section, then everything from the next section on.
{
    sed -n '/^\.SH KEYS$/q;p' "$page"
    cat "$keys"
    sed -n '/^\.SH KEYS$/,$p' "$page" | sed -n '2,$p' | sed -n '/^\.SH /,$p'
} >"$page.new"
mv "$page.new" "$page"
echo "docs/configuration.md and the KEYS of docs/man/gateway.yaml.5 rewritten from the schema"
