#!/usr/bin/env bash
# (e) Stopping gatewayd with SIGTERM closes the gateway: it exits 0, leaves no GATEWAYD chain or
# NFQUEUE rule behind, turns net.ipv4.ip_forward back to 0, and LAN→WAN traffic stops flowing.
# Daemon-only: with LAB_NAT=kernel there is nothing to stop, so it skips (fails under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly ECHO_PORT=7001

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "SIGTERM behaviour is gatewayd's; LAB_NAT=${LAB_NAT:-}"

check_exit_status() {
    [[ $LAB_DAEMON_RC == 0 ]] || lab_fail "gatewayd exited with status $LAB_DAEMON_RC on SIGTERM; expected 0"
    lab_ok "gatewayd exited 0 on SIGTERM"
}

check_rules_removed() {
    local leftovers
    leftovers=$(lab_gw iptables-save | grep -E 'GATEWAYD|NFQUEUE' || true)
    [[ -z $leftovers ]] || lab_fail "gatewayd left rules behind after SIGTERM:"$'\n'"$leftovers"
    lab_ok "iptables-save in the gateway shows no GATEWAYD chain and no NFQUEUE rule"
}

check_forwarding_off() {
    local forwarding
    forwarding=$(lab_gw sysctl -n net.ipv4.ip_forward)
    [[ $forwarding == 0 ]] || lab_fail "net.ipv4.ip_forward is $forwarding after SIGTERM; expected 0 (fail-closed)"
    lab_ok "net.ipv4.ip_forward is 0"
}

lab_up --nat gatewayd
lab_heading "SIGTERM stops gatewayd and closes the gateway"
lab_bg wan echo "$LAB_PY" "$LAB_NET_PY" udp-echo --port "$ECHO_PORT"
lab_wait_listen wan udp "$ECHO_PORT"
# Without this the checks below could pass on a gateway that never forwarded anything.
lab_expect_traffic_flows "$ECHO_PORT" "precondition, while gatewayd runs"
lab_ok "precondition: ping and UDP LAN→WAN work while gatewayd runs"

lab_daemon_stop
check_exit_status
check_rules_removed
check_forwarding_off
lab_expect_traffic_blocked "$ECHO_PORT" "after SIGTERM"
lab_ok "ping and UDP LAN→WAN no longer get through"
echo "PASS  SIGTERM leaves the gateway closed and clean"
