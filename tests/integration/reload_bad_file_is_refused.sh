#!/usr/bin/env bash
# ctest: sanitize
# A reload that cannot be applied changes nothing: a file with errors is refused with its
# file:line:column errors (on gatewayctl's stderr, exit 1, and in the daemon's log), and a valid
# file that changes what needs a restart (nat.port_range) is refused naming the key; after both the
# running forward still admits the WAN host. `forwards disable NAME` closes a forward at once and
# `forwards enable NAME` opens it again, without a reload.
# Daemon-only: skips under LAB_NAT=kernel (fails under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly PORT=3389

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "reload is gatewayd's; LAB_NAT=${LAB_NAT:-}"

good_config() {
    cat <<EOF
lan: {interface: $LAB_GW_LAN_IF, networks: [$LAB_LAN_NET]}
wan: {interface: $LAB_GW_WAN_IF, address: auto}
nat: {port_range: ${1:-1024-65535}}
${LAB_TMP:+upnp: {lease_file: $LAB_TMP/gatewayd.leases\}}
firewall:
  forwards:
    - {name: remote-desktop, protocol: tcp, external_port: $PORT, internal: "$LAB_LAN_IP:$PORT"}
EOF
}

forward_open() {
    lab_upnp_probe_arrives lan tcp "$PORT" "$PORT" "${1:-3}"
}

lab_up --nat gatewayd --config <(good_config)
lab_heading "a bad reload is refused and the running rules stay"
lab_upnp_listen lan "$PORT"
forward_open || lab_fail "control: the forward $PORT does not reach the LAN host"
lab_ok "control: the forward $PORT reaches the LAN host"

cat >"$LAB_TMP/gatewayd.yaml" <<EOF
lan: {interface: $LAB_GW_LAN_IF}
wan: {interface: $LAB_GW_WAN_IF, adress: auto}
firewall:
  filtering: sometimes
EOF
rc=0
err=$(lab_ctl reload 2>&1 >/dev/null) || rc=$?
((rc == 1)) || lab_fail "gatewayctl reload of a bad file exited $rc: $err"
grep -qE "^  $LAB_TMP/gatewayd.yaml:2:[0-9]+: .*adress" <<<"$err" || lab_fail "no file:line:column error for 'adress':"$'\n'"$err"
grep -qE "^  $LAB_TMP/gatewayd.yaml:4:[0-9]+: " <<<"$err" || lab_fail "no file:line:column error for line 4:"$'\n'"$err"
grep -q "running configuration is kept" <<<"$err" || lab_fail "the refusal does not say the running config is kept:"$'\n'"$err"
grep -qF "$LAB_TMP/gatewayd.yaml:2:" "$LAB_DAEMON_LOG" || lab_fail "the daemon did not log the errors"
forward_open || lab_fail "after the refused reload the forward $PORT no longer works"
lab_ok "refused with its errors ($(sed -n 2p <<<"$err" | sed 's/^ *//')); the forward still works"

good_config 20000-30000 >"$LAB_TMP/gatewayd.yaml"
rc=0
err=$(lab_ctl reload 2>&1 >/dev/null) || rc=$?
((rc == 1)) || lab_fail "a port_range change was not refused (exit $rc): $err"
grep -q "nat.port_range cannot change while running .*restart" <<<"$err" || lab_fail "the refusal does not name nat.port_range:"$'\n'"$err"
forward_open || lab_fail "after the refused port_range change the forward $PORT no longer works"
lab_ok "a change that needs a restart is refused by key: $(grep port_range <<<"$err" | sed 's/^ *//')"

{ good_config; echo "nfqueue: {workers: 2}"; } >"$LAB_TMP/gatewayd.yaml"
rc=0
err=$(lab_ctl reload 2>&1 >/dev/null) || rc=$?
((rc == 1)) || lab_fail "an nfqueue.workers change was not refused (exit $rc): $err"
grep -q "nfqueue.workers cannot change while running (1 -> 2).*restart" <<<"$err" ||
    lab_fail "the refusal does not name nfqueue.workers:"$'\n'"$err"
forward_open || lab_fail "after the refused nfqueue.workers change the forward $PORT no longer works"
lab_ok "the worker count needs a restart: $(grep nfqueue.workers <<<"$err" | sed 's/^ *//')"

good_config >"$LAB_TMP/gatewayd.yaml"
lab_ctl reload >/dev/null || lab_fail "reloading the original file was refused"
lab_ctl forwards disable remote-desktop >/dev/null || lab_fail "forwards disable failed"
if forward_open 2; then lab_fail "the disabled forward still reaches the LAN host"; fi
lab_ctl --json mappings | python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin)["forwards"][0]["enabled"] is False else 1)' ||
    lab_fail "mappings does not show the forward disabled"
lab_ctl forwards enable remote-desktop >/dev/null || lab_fail "forwards enable failed"
forward_open || lab_fail "the re-enabled forward does not reach the LAN host"
lab_ok "forwards disable closes the forward at once; enable opens it again"
echo "PASS  a bad reload is refused and the running rules stay"
