#!/usr/bin/env bash
# One LAN host tries to take every external port: 900 UDP sockets (900 source ports, so 900 NAT
# mappings wanted) against a port range of only 300 ports, with nat.max_ports_per_host 50. It gets
# exactly 50 external ports; every other socket's datagram is dropped as host_port_limit (counted
# exactly, logged rate-limited). Meanwhile, and after, a second LAN host still gets mappings of its
# own. Without the per-host limit the greedy host would hold the whole range and the second host's
# datagrams would be dropped as ports_exhausted. Each refused datagram asks for an ICMP
# administratively prohibited to the greedy host (RFC 5508 REQ-8), at most 10 a second, counted
# sent or suppressed; the host receives exactly those sent, from the gateway's LAN address.
# gatewayd only (its limits and counters are under test); needs bench/lab_probe.
# ctest: sanitize
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
# shellcheck source=SCRIPTDIR/../lab/lab_floods.sh
source "$LAB_DIR/lab_floods.sh"

readonly LIMIT=50 SOCKETS=900 RATE=200 PORT_RANGE=30000-30299 ECHO_PORT=7001 LOG_LINES_PER_SECOND=20
GREEDY_IP=$(lab_lan_ip 1)
OTHER_IP=$(lab_lan_ip 2)
readonly GREEDY_IP OTHER_IP

flood_config() {
    cat <<EOF
lan: {interface: $LAB_GW_LAN_IF, networks: [$LAB_LAN_NET]}
wan: {interface: $LAB_GW_WAN_IF, address: auto}
nat: {port_range: $PORT_RANGE, max_ports_per_host: $LIMIT}
firewall: {log_lines_per_second: $LOG_LINES_PER_SECOND}
upnp: {enabled: false, lease_file: $LAB_TMP/gatewayd.leases}
EOF
}

# other_host_maps SOURCE-PORT: LAN host 2 gets a new mapping (an external port in the range)
# and its answer; prints the external port.
other_host_maps() {
    local answer
    answer=$(lab_py lan2 udp-ask --timeout 2 --source-port "$1" "$LAB_WAN_IP:$ECHO_PORT") || return 1
    answer=${answer##* }
    [[ $answer == "$LAB_GW_WAN_IP":* ]] || return 1
    echo "${answer##*:}"
}

flood_require
flood_lab_up 2 flood_config
lab_heading "LAN host $GREEDY_IP opens $SOCKETS source ports (range $PORT_RANGE); nat.max_ports_per_host is $LIMIT"
lab_bg wan udp-echo "$LAB_PY" "$LAB_NET_PY" udp-echo --port "$ECHO_PORT"
lab_wait_listen wan udp "$ECHO_PORT"
refused_before=$(flood_counter host_port_limit)
unreachables_before=$(flood_counter no_mapping_unreachables)
suppressed_before=$(flood_counter no_mapping_unreachables_suppressed)
lab_sniff_start lan sniff-greedy
flood_started=$SECONDS
exhausted_before=$(flood_counter ports_exhausted)
kernel_drops_before=$(flood_kernel_drops)

# One datagram from each of SOCKETS sockets, paced so that the flood lasts 4.5 s.
lab_bg lan flood "$LAB_PROBE" udp-flows --to "$LAB_WAN_IP" --first-port "$ECHO_PORT" --flows "$SOCKETS" \
    --sockets "$SOCKETS" --rate "$RATE"
flood_pid=$LAB_BG_PID
# Past the point where the greedy host, unlimited, would hold the whole range (300 sockets at
# 200/s take 1.5 s): without the limit LAN host 2's datagrams would be ports_exhausted now.
sleep 1.6
ports=()
# LAN host 2 starts while the flood still runs (what happens after is checked below too).
kill -0 "$flood_pid" 2>/dev/null || lab_fail "the flood ended before LAN host 2 began: raise SOCKETS (it proves nothing otherwise)"
for source_port in 42001 42002 42003; do
    port=$(other_host_maps "$source_port") || lab_fail "during the flood, LAN host 2 got no mapping for its port $source_port"
    ports+=("$port")
done
lab_ok "during the flood LAN host 2 ($OTHER_IP) got mappings on external ports ${ports[*]}"
flood_finish "$flood_pid" "$SOCKETS"

if lab_py lan udp-ask --timeout 1 --source-port 42000 "$LAB_WAN_IP:$ECHO_PORT" >/dev/null; then
    lab_fail "after the flood, LAN host 1 (at its port limit) still got a new mapping"
fi
port=$(other_host_maps 42004) || lab_fail "after the flood, LAN host 2 got no new mapping"
lab_ok "after it LAN host 1 gets no new port (at its limit); LAN host 2 still does (:$port)"

held=$(flood_count_external_ports "$GREEDY_IP")
((held == LIMIT)) || lab_fail "LAN host 1 holds $held external ports, expected exactly nat.max_ports_per_host = $LIMIT"
other_held=$(flood_count_external_ports "$OTHER_IP")
((other_held == 4)) || lab_fail "LAN host 2 holds $other_held external ports, expected 4"
lab_ok "external ports held: LAN host 1 $held (its limit), LAN host 2 $other_held"

kernel_drops=$(($(flood_kernel_drops) - kernel_drops_before))
refused=$(($(flood_counter host_port_limit) - refused_before))
expected=$((SOCKETS - LIMIT + 1)) # the flood's excess, and LAN host 1's probe after it
((refused == expected)) ||
    lab_fail "host_port_limit grew by $refused, expected exactly $expected (packets the kernel dropped before gatewayd: $kernel_drops)"
exhausted=$(($(flood_counter ports_exhausted) - exhausted_before))
((exhausted == 0)) || lab_fail "ports_exhausted grew by $exhausted: the range ran out despite the per-host limit"
lab_ok "host_port_limit counted every refused port: $refused; ports_exhausted never"

# RFC 5508 REQ-8: every refusal asked for an ICMP answer or was held back by the rate limit.
unreachables=$(($(flood_counter no_mapping_unreachables) - unreachables_before))
suppressed=$(($(flood_counter no_mapping_unreachables_suppressed) - suppressed_before))
most=$((10 + 10 * (SECONDS - flood_started + 1))) # the burst, then 10 a second
((unreachables + suppressed == refused)) ||
    lab_fail "ICMP answers sent $unreachables + suppressed $suppressed != $refused refusals"
((unreachables >= 10 && unreachables <= most)) ||
    lab_fail "$unreachables ICMP answers sent in $((SECONDS - flood_started)) s: expected 10 to $most (10 a second)"
icmp_seen() { lab_sniffed sniff-greedy | grep -cxF "icmp $LAB_GW_LAN_IP > $GREEDY_IP type 3 code 13" || true; }
icmp_all_seen() { (($(icmp_seen) == unreachables)); }
lab_poll 3 icmp_all_seen ||
    lab_fail "LAN host 1 received $(icmp_seen) ICMP administratively prohibited from $LAB_GW_LAN_IP, the gateway sent $unreachables"
lab_ok "RFC 5508 REQ-8: LAN host 1 got $unreachables ICMP administratively prohibited ($suppressed held back by the rate limit)"

logged=$(grep -c 'reason=host_port_limit' "$LAB_DAEMON_LOG" || true)
((logged >= 1)) || lab_fail "no host_port_limit drop was logged"
((logged <= LOG_LINES_PER_SECOND * 10)) || lab_fail "$logged host_port_limit lines logged for $refused drops: not rate-limited"
grep -q 'lines suppressed' "$LAB_DAEMON_LOG" || lab_fail "the log does not say how many drop lines it suppressed"
lab_ok "the log holds $logged host_port_limit lines for $refused drops, and says how many it suppressed"
echo "PASS  one LAN host's port grab stops at nat.max_ports_per_host, counted and logged; the other host keeps getting ports"
