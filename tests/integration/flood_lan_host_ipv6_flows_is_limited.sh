#!/usr/bin/env bash
# IPv6 flows obey IPv4's per-host limit (issue 15: one flow machinery for both families). One
# LAN host sends new UDP flows over IPv6 to the WAN host as fast as a script can (3000, one
# datagram each, to 3000 ports) past nat.max_flows_per_host (100): exactly 100 are tracked,
# the rest are dropped and counted as host_flow_limit. Meanwhile and after, a second LAN host's
# IPv6 TCP connection and UDP exchange with the WAN host work.
# Daemon-only (the IPv6 firewall is gatewayd's): skips under LAB_NAT=kernel (fails under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
# shellcheck source=SCRIPTDIR/../lab/lab_floods.sh
source "$LAB_DIR/lab_floods.sh"

readonly LIMIT=100 FLOWS=3000 RATE=2000 FIRST_PORT=20000 TCP_PORT=8080 UDP_PORT=7001 PY=/usr/bin/python3
readonly NET6=$LAB_DIR/labnet6.py
readonly GREEDY6=2001:db8:1::10 OTHER6=2001:db8:1::20 # LAN hosts 1 and 2 (lab_topology.sh)

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the IPv6 firewall is gatewayd's; LAB_NAT=${LAB_NAT:-}"

flood_config() {
    cat <<EOF
lan: {interface: $LAB_GW_LAN_IF, ipv6_networks: [$LAB_LAN6_NET]}
wan: {interface: $LAB_GW_WAN_IF, address: auto}
nat: {max_flows_per_host: $LIMIT}
firewall: {log_lines_per_second: 20}
upnp: {enabled: false, lease_file: $LAB_TMP/gatewayd.leases}
EOF
}

net6() {
    local role=$1
    shift
    lab_in "$role" "$PY" "$NET6" "$@"
}

# other_host_works WHEN: LAN host 2 connects over TCP and exchanges a datagram with the WAN host.
other_host_works() {
    local answer
    answer=$(net6 lan2 tcp-ask "$LAB_WAN6_IP" "$TCP_PORT") || lab_fail "$1, LAN host 2's IPv6 TCP connection: $answer"
    answer=$(net6 lan2 udp-ask "$LAB_WAN6_IP" "$UDP_PORT") || lab_fail "$1, LAN host 2's IPv6 UDP exchange: $answer"
}

# ipv6_flows_of ADDRESS: the IPv6 flows gatewayd tracks with ADDRESS at their LAN end.
ipv6_flows_of() {
    lab_ctl --json flows6 | "$LAB_PY" -c '
import json, sys
prefix = "[" + sys.argv[1] + "]:"
print(sum(f["lan"].startswith(prefix) for f in json.load(sys.stdin)["flows"]))' "$1" ||
        lab_fail "gatewayctl flows6 failed (is the daemon alive?)"
}

lab_up --nat none --ipv6 --lan-hosts 2
lab_daemon_start --config <(flood_config)
lab_heading "LAN host $GREEDY6 opens $FLOWS IPv6 UDP flows at ${RATE}/s; nat.max_flows_per_host is $LIMIT"
lab_bg wan tcp-wan "$PY" "$NET6" tcp-echo --port "$TCP_PORT"
lab_bg wan udp-wan "$PY" "$NET6" udp-echo --port "$UDP_PORT"
lab_wait_listen wan tcp "$TCP_PORT"
lab_wait_listen wan udp "$UDP_PORT"
refused_before=$(flood_counter host_flow_limit)
kernel_drops_before=$(flood_kernel_drops)

lab_bg lan flood "$PY" "$NET6" udp-flows "$LAB_WAN6_IP" --first-port "$FIRST_PORT" --flows "$FLOWS" --rate "$RATE"
flood_pid=$LAB_BG_PID
sleep 0.3 # past the limit: every datagram now is a refused flow
kill -0 "$flood_pid" 2>/dev/null || lab_fail "the flood ended before LAN host 2 began: raise FLOWS (it proves nothing otherwise)"
other_host_works "during the flood"
kill -0 "$flood_pid" 2>/dev/null || lab_fail "the flood ended before LAN host 2 was done: raise FLOWS"
lab_ok "during the flood LAN host 2 ($OTHER6) connected over TCP and exchanged a datagram"
wait "$flood_pid" || lab_fail "the flood script failed: $(cat "$LAB_TMP/flood.log")"
lab_ok "$(cat "$LAB_TMP/flood.log")"
other_host_works "after the flood"
lab_ok "after it LAN host 2 still connects"

held=$(ipv6_flows_of "$GREEDY6")
((held == LIMIT)) || lab_fail "LAN host 1 holds $held IPv6 flows, expected exactly nat.max_flows_per_host = $LIMIT"
lab_ok "LAN host 1 holds $held IPv6 flows (its limit)"

kernel_drops=$(($(flood_kernel_drops) - kernel_drops_before))
refused=$(($(flood_counter host_flow_limit) - refused_before))
expected=$((FLOWS - LIMIT))
((refused <= expected && refused + kernel_drops >= expected)) ||
    lab_fail "host_flow_limit grew by $refused, expected $expected (packets the kernel dropped before gatewayd: $kernel_drops)"
lab_ok "host_flow_limit counted the refused IPv6 flows: $refused (kernel drops before gatewayd: $kernel_drops)"
grep -q "reason=host_flow_limit.*src=\[$GREEDY6\]" "$LAB_DAEMON_LOG" || lab_fail "no IPv6 host_flow_limit drop was logged"
echo "PASS  one LAN host's IPv6 flow flood stops at nat.max_flows_per_host, counted; the other host keeps connecting"
