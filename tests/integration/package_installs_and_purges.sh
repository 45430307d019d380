#!/usr/bin/env bash
# The Debian package, the way an operator meets it (README "Install on a router"): made
# from this build with `cpack -G DEB`, clean under lintian (no errors), installed with
# dpkg, then checked as installed:
#   - gatewayd and gatewayctl answer --version with the project's version;
#   - the unit in /lib/systemd/system runs /usr/sbin/gatewayd on /etc/gatewayd/gateway.yaml,
#     passes `systemd-analyze verify` (its man pages installed) and rates 2.5 or lower;
#   - the config is a conffile and passes the unit's ExecStartPre check;
#   - the unit is enabled the Debian way (deb-systemd-helper) and was not started;
# and purged, after which every file it added is gone: the machine is as it was.
# This test installs into the machine's own file system (not its network: nothing is
# started). It refuses to run where a gatewayd package is already installed.
# Skips (77) without dpkg, cpack or lintian; under CI=true that is a failure instead.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
gatewayd=${GATEWAYD:-$repo/build/daemon/gatewayd}
build=$(cd "$(dirname "$gatewayd")/.." && pwd)
version=$(sed -n 's/^project(gatewayd VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() {
    [[ ${CI:-} == true ]] && fail "$* (CI=true: a skip would hide a broken package)"
    echo "SKIP: $*" >&2
    exit 77
}

for tool in dpkg cpack lintian systemd-analyze; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (tools/install-deps.sh)"
done
[[ $(id -u) == 0 ]] || skip "installing a package needs root"
[[ -f $build/CPackConfig.cmake ]] || fail "no CPackConfig.cmake in $build: configure and build first"
if dpkg-query -W -f='${Status}' gatewayd 2>/dev/null | grep -q 'installed'; then
    fail "a gatewayd package is already installed here; this test would replace and purge it"
fi

tmp=$(mktemp -d)
installed=false
cleanup() {
    if $installed; then dpkg --purge gatewayd >/dev/null 2>&1 || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# What the package may touch, before: every path under these, sorted.
watched=(/etc/gatewayd /etc/systemd/system /lib/systemd/system /usr/sbin /usr/share/doc/gatewayd
    /usr/share/man/man5 /usr/share/man/man8 /var/lib/gatewayd /var/lib/systemd/deb-systemd-helper-enabled
    /var/lib/systemd/deb-systemd-helper-masked)
snapshot() { { find "${watched[@]}" 2>/dev/null || true; } | sort; }  # some are absent
snapshot >"$tmp/before"

(cd "$tmp" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1) ||
    fail "cpack could not make the package:"$'\n'"$(tail -20 "$tmp/cpack.log")"
deb=$(find "$tmp/out" -maxdepth 1 -name 'gatewayd_*.deb' | head -1)
[[ -n $deb ]] || fail "cpack made no gatewayd_*.deb:"$'\n'"$(tail -20 "$tmp/cpack.log")"
echo "ok - cpack made $(basename "$deb")"

lint=$(lintian "$deb" 2>&1 | grep -v 'running with root privileges' || true)
grep -q '^E:' <<<"$lint" && fail "lintian finds errors in the package:"$'\n'"$lint"
echo "ok - lintian: no errors${lint:+ (its other remarks: $(grep -c . <<<"$lint"))}"

depends=$(dpkg-deb -f "$deb" Depends)
for library in libupnp libnetfilter-queue libyaml-cpp iptables; do
    grep -q "$library" <<<"$depends" || fail "the package does not depend on $library: $depends"
done
echo "ok - dependencies come from the shared libraries: $depends"

dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1 || fail "dpkg -i failed:"$'\n'"$(cat "$tmp/dpkg.log")"
installed=true
echo "ok - dpkg -i installed it"

[[ $(/usr/sbin/gatewayd --version) == "gatewayd $version" ]] || fail "gatewayd --version: $(/usr/sbin/gatewayd --version)"
[[ $(/usr/sbin/gatewayctl --version) == "gatewayctl $version" ]] ||
    fail "gatewayctl --version: $(/usr/sbin/gatewayctl --version)"
echo "ok - both binaries say version $version"

unit=/lib/systemd/system/gatewayd.service
[[ -f $unit ]] || fail "no unit at $unit"
grep -qxF 'ExecStart=/usr/sbin/gatewayd --config /etc/gatewayd/gateway.yaml' "$unit" ||
    fail "the installed unit's ExecStart is not the package's binary and config: $(grep '^ExecStart=' "$unit")"
output=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify refused the installed unit:"$'\n'"$output"
grep -q 'gatewayd.service' <<<"$output" && fail "systemd-analyze verify warned about the installed unit:"$'\n'"$output"
score=$(systemd-analyze security --offline=true "$unit" 2>&1 | sed -n 's/.*Overall exposure level for gatewayd.service: \([0-9.]*\).*/\1/p')
awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.5) }' || fail "systemd-analyze security rates the installed unit ${score:-?}"
echo "ok - the installed unit runs /usr/sbin/gatewayd on /etc/gatewayd/gateway.yaml, verifies, and rates $score"

dpkg-query -W -f='${Conffiles}' gatewayd | grep -q '/etc/gatewayd/gateway.yaml' ||
    fail "/etc/gatewayd/gateway.yaml is not a conffile"
/usr/sbin/gatewayd --check-config /etc/gatewayd/gateway.yaml >/dev/null ||
    fail "the installed config fails the unit's ExecStartPre check"
echo "ok - the config is a conffile and passes the ExecStartPre check"

[[ -L /etc/systemd/system/multi-user.target.wants/gatewayd.service ]] ||
    fail "the unit is not enabled (no multi-user.target.wants link)"
pgrep -f "^/usr/sbin/gatewayd" >/dev/null && fail "installing the package started a gatewayd"
echo "ok - enabled for boot through deb-systemd-helper, not started"

dpkg --purge gatewayd >"$tmp/purge.log" 2>&1 || fail "dpkg --purge failed:"$'\n'"$(cat "$tmp/purge.log")"
installed=false
snapshot >"$tmp/after"
if ! diff -u "$tmp/before" "$tmp/after" >"$tmp/left"; then
    fail "the purge left the machine changed:"$'\n'"$(cat "$tmp/left")"
fi
echo "ok - dpkg --purge removed everything it added"
