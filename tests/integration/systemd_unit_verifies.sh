#!/usr/bin/env bash
# systemd/gatewayd.service is a valid unit: `systemd-analyze verify` accepts a copy whose
# binary paths point at the built gatewayd (verify insists that ExecStart's binary exists),
# and its man: Documentation= references resolve to docs/man. Its ExecStartPre check passes
# on config/gateway.yaml. Nothing is started: verify only loads the unit.
# Skips (77) where systemd-analyze is missing; under CI=true that is a failure instead.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
gatewayd=${GATEWAYD:-$repo/build/daemon/gatewayd}

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() {
    [[ ${CI:-} == true ]] && fail "$* (CI=true: a skip would hide a broken unit)"
    echo "SKIP: $*" >&2
    exit 77
}

command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed (apt-get install systemd)"
[[ -x $gatewayd ]] || fail "no gatewayd binary at $gatewayd: build it first, or set GATEWAYD=..."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The shipped paths, rewritten to this tree's. The unit file keeps its name: verify
# derives the unit type and name from it.
sed -e "s|/usr/local/sbin/gatewayd|$gatewayd|g" \
    -e "s|/etc/gatewayd/gateway.yaml|$repo/config/gateway.yaml|g" \
    "$repo/systemd/gatewayd.service" >"$tmp/gatewayd.service"
grep -q '/usr/local/sbin' "$tmp/gatewayd.service" && fail "a path under /usr/local/sbin was not rewritten"

# verify runs `man` for every man: reference; serve them from docs/man.
mkdir -p "$tmp/man/man5" "$tmp/man/man8"
cp "$repo"/docs/man/*.8 "$tmp/man/man8/"
cp "$repo"/docs/man/*.5 "$tmp/man/man5/"

# Without man(1) verify cannot resolve man: references at all: check the rest.
man_check=(--man=yes)
command -v man >/dev/null || { man_check=(--man=no); echo "note: man(1) is missing; Documentation= not checked"; }
if ! output=$(cd "$tmp" && MANPATH="$tmp/man" systemd-analyze verify "${man_check[@]}" "$tmp/gatewayd.service" 2>&1); then
    fail "systemd-analyze verify refused the unit:"$'\n'"$output"
fi
# verify exits 0 on some warnings; any line about our unit is a problem.
if grep -q 'gatewayd.service' <<<"$output"; then
    fail "systemd-analyze verify warned about the unit:"$'\n'"$output"
fi
echo "ok - systemd-analyze verify ${man_check[*]} accepts gatewayd.service (man pages from docs/man)"

# What systemd needs to find in the unit for the daemon's sd_notify calls and fail-closed stop to work.
# shellcheck disable=SC2016 # $MAINPID is systemd's, not ours
for line in 'Type=notify' 'NotifyAccess=main' 'WatchdogSec=30' 'ExecReload=/bin/kill -HUP $MAINPID' \
    'StateDirectory=gatewayd' 'RuntimeDirectory=gatewayd'; do
    grep -qxF -- "$line" "$tmp/gatewayd.service" || fail "the unit lacks the line '$line'"
done
# ProtectKernelTunables makes /proc/sys read-only: gatewayd could not switch forwarding.
grep -q '^ProtectKernelTunables=yes' "$tmp/gatewayd.service" &&
    fail "ProtectKernelTunables=yes would stop gatewayd from writing net.ipv4.ip_forward"
echo "ok - notify, watchdog, reload, state and runtime directories are set; /proc/sys stays writable"

"$gatewayd" --check-config "$repo/config/gateway.yaml" >/dev/null ||
    fail "ExecStartPre's check fails on config/gateway.yaml"
echo "ok - the ExecStartPre check passes on config/gateway.yaml"
