#!/usr/bin/env bash
# One LAN host opens UDP flows as fast as lab_probe sends them (40 000 flows, one datagram each,
# from one socket to 40 000 WAN ports, 5 s) past nat.max_flows_per_host (100): exactly 100 of its flows
# are admitted, every other datagram is dropped as host_flow_limit (counted exactly, logged
# rate-limited), and meanwhile a second LAN host opens new flows of its own that all get answers.
# After the flood the greedy host still cannot open one more flow; the other still can.
# gatewayd only (its limits and counters are under test); needs bench/lab_probe.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
# shellcheck source=SCRIPTDIR/../lab/lab_floods.sh
source "$LAB_DIR/lab_floods.sh"

readonly LIMIT=100 FLOWS=40000 RATE=8000 ECHO_PORT=7001 FIRST_PORT=20000 LOG_LINES_PER_SECOND=20
GREEDY_IP=$(lab_lan_ip 1)
OTHER_IP=$(lab_lan_ip 2)
readonly GREEDY_IP OTHER_IP

flood_config() {
    cat <<EOF
lan: {interface: $LAB_GW_LAN_IF, networks: [$LAB_LAN_NET]}
wan: {interface: $LAB_GW_WAN_IF, address: auto}
nat: {port_range: 1024-65535, max_flows_per_host: $LIMIT}
firewall: {log_lines_per_second: $LOG_LINES_PER_SECOND}
upnp: {enabled: false, lease_file: $LAB_TMP/gatewayd.leases}
EOF
}

# other_host_asks SOURCE-PORT: LAN host 2 opens a new flow to the WAN echo server and is answered.
other_host_asks() {
    lab_py lan2 udp-ask --timeout 2 --source-port "$1" "$LAB_WAN_IP:$ECHO_PORT" >/dev/null
}

flood_require
flood_lab_up 2 flood_config
lab_heading "LAN host $GREEDY_IP opens $FLOWS UDP flows at ${RATE}/s; nat.max_flows_per_host is $LIMIT"
lab_bg wan udp-echo "$LAB_PY" "$LAB_NET_PY" udp-echo --port "$ECHO_PORT"
lab_wait_listen wan udp "$ECHO_PORT"
refused_before=$(flood_counter host_flow_limit)
kernel_drops_before=$(flood_kernel_drops)

lab_bg lan flood "$LAB_PROBE" udp-flows --to "$LAB_WAN_IP" --first-port "$FIRST_PORT" --flows "$FLOWS" --sockets 1 --rate "$RATE"
flood_pid=$LAB_BG_PID
sleep 0.5 # well past the limit: every datagram now is a refused flow
answered=0
# LAN host 2 starts while the flood still runs (what happens after is checked below too).
kill -0 "$flood_pid" 2>/dev/null || lab_fail "the flood ended before LAN host 2 began: raise FLOWS (it proves nothing otherwise)"
for port in 41001 41002 41003; do
    other_host_asks "$port" || lab_fail "during the flood, LAN host 2's new flow from port $port got no answer"
    answered=$((answered + 1))
done
lab_ok "during the flood LAN host 2 ($OTHER_IP) opened $answered new flows, each answered"
flood_finish "$flood_pid" "$FLOWS"

if lab_py lan udp-ask --timeout 1 --source-port 41000 "$LAB_WAN_IP:$ECHO_PORT" >/dev/null; then
    lab_fail "after the flood, LAN host 1 (at its limit) still opened a new flow"
fi
other_host_asks 41006 || lab_fail "after the flood, LAN host 2's new flow got no answer"
lab_ok "after it LAN host 1 gets no new flow (at its limit); LAN host 2 still does"

held=$(flood_count_flows origin=lan "internal=$GREEDY_IP:*")
((held == LIMIT)) || lab_fail "LAN host 1 holds $held flows, expected exactly nat.max_flows_per_host = $LIMIT"
other_held=$(flood_count_flows origin=lan "internal=$OTHER_IP:*")
((other_held == answered + 1)) || lab_fail "LAN host 2 holds $other_held flows, expected $((answered + 1))"
lab_ok "flows held: LAN host 1 $held (its limit), LAN host 2 $other_held"

kernel_drops=$(($(flood_kernel_drops) - kernel_drops_before))
refused=$(($(flood_counter host_flow_limit) - refused_before))
expected=$((FLOWS - LIMIT + 1)) # the flood's excess, and LAN host 1's probe after it
((refused == expected)) ||
    lab_fail "host_flow_limit grew by $refused, expected exactly $expected (packets the kernel dropped before gatewayd: $kernel_drops)"
lab_ok "host_flow_limit counted every refused flow: $refused"

logged=$(grep -c 'reason=host_flow_limit' "$LAB_DAEMON_LOG" || true)
((logged >= 1)) || lab_fail "no host_flow_limit drop was logged"
# At most LOG_LINES_PER_SECOND a second over the few seconds the flood lasted (generous: 10 s).
((logged <= LOG_LINES_PER_SECOND * 10)) || lab_fail "$logged host_flow_limit lines logged for $refused drops: not rate-limited"
grep -q 'lines suppressed' "$LAB_DAEMON_LOG" || lab_fail "the log does not say how many drop lines it suppressed"
lab_ok "the log holds $logged host_flow_limit lines for $refused drops, and says how many it suppressed"
echo "PASS  one LAN host's flow flood stops at nat.max_flows_per_host, counted and logged; the other host keeps opening flows"
