#!/usr/bin/env bash
# (f) A gatewayd killed with SIGKILL cannot clean up, so its NFQUEUE rules stay and, with no
# listener on the queue, drop everything: LAN→WAN traffic must stop (fail-closed). The next start
# must remove the stale rules before installing its own (exactly one set, identical to a fresh
# start's) and traffic must flow again.
# Daemon-only: with LAB_NAT=kernel there is no daemon to kill, so it skips (fails under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly ECHO_PORT=7001

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "SIGKILL recovery is gatewayd's; LAB_NAT=${LAB_NAT:-}"

# gateway_rules: every table's rules, without the comments and packet counters that change.
gateway_rules() {
    lab_gw iptables-save | sed -e '/^#/d' -e 's/ \[[0-9]*:[0-9]*\]$//'
}

# duplicated_jumps: jumps to a GATEWAYD_* chain that appear more than once (a stale set beside a new one).
duplicated_jumps() {
    lab_gw iptables-save -t mangle | grep -E -- "^-A [A-Z]+ .*-j GATEWAYD" | sort | uniq -d
}

check_one_set_of_rules() {
    local fresh=$1 restarted
    restarted=$(gateway_rules)
    if [[ $restarted != "$fresh" ]]; then
        lab_fail "the rules after restart differ from a fresh start's:"$'\n'"$(diff <(echo "$fresh") <(echo "$restarted") || true)"
    fi
    local duplicated
    duplicated=$(duplicated_jumps)
    [[ -z $duplicated ]] || lab_fail "jumps to GATEWAYD chains installed twice:"$'\n'"$duplicated"
    lab_ok "after restart: exactly one set of GATEWAYD rules, identical to a fresh start's"
}

lab_up --nat gatewayd
lab_heading "SIGKILL fails closed; the next start cleans up"
lab_bg wan echo "$LAB_PY" "$LAB_NET_PY" udp-echo --port "$ECHO_PORT"
lab_wait_listen wan udp "$ECHO_PORT"
fresh_rules=$(gateway_rules)
grep -q GATEWAYD <<<"$fresh_rules" || lab_fail "a running gatewayd shows no GATEWAYD chain in iptables-save"
lab_expect_traffic_flows "$ECHO_PORT" "precondition, while gatewayd runs"
lab_ok "precondition: GATEWAYD rules present, ping and UDP LAN→WAN work"

lab_daemon_kill9
lab_expect_traffic_blocked "$ECHO_PORT" "after SIGKILL (must fail closed)"
lab_ok "after SIGKILL: ping and UDP LAN→WAN no longer get through (fail-closed)"
echo "        (rules left in place: $(gateway_rules | grep -c GATEWAYD) GATEWAYD lines, ip_forward=$(lab_gw sysctl -n net.ipv4.ip_forward))"

lab_daemon_start
check_one_set_of_rules "$fresh_rules"
lab_expect_traffic_flows "$ECHO_PORT" "after restart"
lab_ok "after restart: ping and UDP LAN→WAN work again"
echo "PASS  SIGKILL fails closed and a restart cleans up"
