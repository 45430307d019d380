#!/usr/bin/env bash
# Rewrites what is generated from the config schema after a schema change: docs/configuration.md
# and the KEYS section of docs/man/gateway.yaml.5 (unit tests compare both with the schema).
# Needs a built gatewayd (tools/build.sh), or GATEWAYD=path.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
gatewayd=${GATEWAYD:-$repo/build/daemon/gatewayd}
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
