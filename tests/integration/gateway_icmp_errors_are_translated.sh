#!/usr/bin/env bash
# ctest: sanitize
# The gateway's own ICMP errors (issue 18.2, RFC 5508 REQ-10): the kernel builds fragmentation
# needed and time exceeded about a datagram as it routes it, and an inbound datagram is routed
# after gatewayd translated it, so the kernel quotes the LAN host's address and port. gatewayd puts
# the quote back as the WAN sender sent it. With a real UDP mapping (a LAN socket that sent first):
#   - LAN MTU 1400, then 1280 (tunnels): the WAN host's socket (IP_PMTUDISC_DO) sends a DF datagram
#     larger than the LAN MTU; the fragmentation needed it gets quotes its own datagram (to the WAN
#     address and external port, checksums right), and its kernel learns the MTU (IP_MTU, route);
#   - a TTL-1 datagram to the mapping: the time exceeded quotes the external endpoint too;
#   - outbound, WAN MTU 1492 (PPPoE): ip_forward checks before FORWARD, where gatewayd translates,
#     so the LAN host gets a fragmentation needed (and a time exceeded for TTL 1) quoting what it
#     sent, and its socket learns 1492;
#   - errors the kernel sends to the WAN address itself, about a datagram a LAN host sent that it
#     holds translated: a hairpinned TTL-1 datagram (to a forward to lan2), and an outbound one no
#     WAN neighbour takes (host unreachable after FORWARD): both reach the LAN host quoting what it sent.
# The WAN watcher (lab_wan_watch.sh) fails the test if a LAN address leaves by the WAN, quoted too.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly REMOTE_PORT=7600 OUTBOUND_PORT=7601 HAIRPIN_PORT=7602 LAN_PORT=41645
readonly NO_NEIGHBOUR=203.0.113.99 # on the WAN link, answering no ARP
PMTU_PY=$LAB_DIR/labpmtu.py

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the counters are gatewayd's"
/usr/bin/python3 -c 'import scapy' 2>/dev/null || lab_skip "scapy (python3-scapy) is not installed for /usr/bin/python3"

# counter NAME: a counter of gatewayctl status, or a drop reason's count.
counter() {
    lab_ctl --json status | /usr/bin/python3 -c 'import json, sys
c = json.load(sys.stdin).get("counters", {})
print(c.get(sys.argv[1], c.get("drops", {}).get(sys.argv[1], 0)))' "$1"
}

set_mtu() { # ROLE IF MTU
    lab_in "$1" ip link set dev "$2" mtu "$3"
}

# from_wan LAN-MTU PAYLOAD [--ttl-probe]: the WAN host's probe through the mapping of LAN_PORT.
from_wan() {
    local mtu=$1 payload=$2 log=$LAB_TMP/pmtu.wan.$1.log
    shift 2
    set_mtu gw "$LAB_GW_LAN_IF" "$mtu"
    set_mtu lan "$LAB_HOST_IF" "$mtu"
    lab_bg wan "pmtu.wan.$mtu" /usr/bin/python3 "$PMTU_PY" from-wan --port "$REMOTE_PORT" --payload "$payload" "$@"
    local pid=$LAB_BG_PID
    lab_wait_log "$log" ready || lab_fail "the WAN host's probe did not start: $(cat "$log")"
    # The mapping: the LAN host's socket sends first (endpoint-independent, so the same each time).
    lab_lan /usr/bin/python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(sys.argv[2])))
s.sendto(b"open", (sys.argv[1], int(sys.argv[3])))' "$LAB_WAN_IP" "$LAN_PORT" "$REMOTE_PORT"
    wait "$pid" || lab_fail "the WAN host's probe failed: $(cat "$log")"
}

# check_probe WHAT CHECK-ARGS...: labpmtu.py's check of a probe's output; fails the test with WHAT.
check_probe() {
    local what=$1 out
    shift
    if ! out=$(/usr/bin/python3 "$PMTU_PY" check "$@" 2>&1); then
        printf '%s\n' "$out" | sed 's/^/  /'
        lab_fail "$what"
    fi
    printf '%s\n' "$out" | sed 's/^/  /'
}

gateway_config() {
    cat <<EOF
lan: {interface: $LAB_GW_LAN_IF, networks: [$LAB_LAN_NET]}
wan: {interface: $LAB_GW_WAN_IF, address: auto}
firewall:
  forwards:
    - {name: hairpin, protocol: udp, external_port: $HAIRPIN_PORT, internal: "$(lab_lan_ip 2):$HAIRPIN_PORT"}
EOF
}

lab_up --nat gatewayd --lan-hosts 2 --config <(gateway_config)

lab_heading "inbound: a DF datagram larger than the LAN MTU, and one with TTL 1, to a UDP mapping"
before=$(counter gateway_icmp_errors_translated)
from_wan 1400 1450 --ttl-probe # 1478 bytes, as in the audit
check_probe "LAN MTU 1400: the WAN sender cannot use the gateway's ICMP errors" \
    --log "$LAB_TMP/pmtu.wan.1400.log" --mtu 1400 --expect frag,ttl --outer-src "$LAB_GW_WAN_IP" \
    --quoted-src "$LAB_WAN_IP" --quoted-dst "$LAB_GW_WAN_IP"
lab_ok "LAN MTU 1400: fragmentation needed and time exceeded quote the external endpoint"

from_wan 1280 1372 # 1400 bytes: fits the 1400 the sender learned, not a 1280 tunnel
check_probe "LAN MTU 1280: the WAN sender cannot use the gateway's fragmentation needed" \
    --log "$LAB_TMP/pmtu.wan.1280.log" --mtu 1280 --outer-src "$LAB_GW_WAN_IP" --quoted-src "$LAB_WAN_IP" \
    --quoted-dst "$LAB_GW_WAN_IP"
lab_ok "LAN MTU 1280: the sender learns 1280"
after=$(counter gateway_icmp_errors_translated)
((after - before >= 3)) || lab_fail "gateway_icmp_errors_translated went from $before to $after, expected +3"
lab_ok "gateway_icmp_errors_translated: $before -> $after"

lab_heading "outbound: a DF datagram larger than a PPPoE WAN MTU (1492), and one with TTL 1"
set_mtu gw "$LAB_GW_LAN_IF" 1500
set_mtu lan "$LAB_HOST_IF" 1500
set_mtu gw "$LAB_GW_WAN_IF" 1492
set_mtu wan "$LAB_HOST_IF" 1492
log=$LAB_TMP/pmtu.lan.log
lab_lan /usr/bin/python3 "$PMTU_PY" from-lan --server "$LAB_WAN_IP" --port "$OUTBOUND_PORT" --sport "$((LAN_PORT + 1))" \
    --payload 1472 --ttl-probe >"$log" 2>&1 || lab_fail "the LAN host's probe failed: $(cat "$log")"
check_probe "WAN MTU 1492: the LAN host cannot use the gateway's ICMP errors" \
    --log "$log" --mtu 1492 --outer-src "$LAB_GW_LAN_IP" --quoted-src "$LAB_LAN_IP" --quoted-dst "$LAB_WAN_IP" \
    --expect frag,ttl --partial-checksum-ok # the LAN socket's datagram reached ip_forward unfinished (veth)
lab_ok "WAN MTU 1492: the LAN host gets errors quoting what it sent, and learns 1492"

lab_heading "to the WAN address itself: a hairpinned TTL-1 datagram, an outbound one no WAN neighbour takes"
log=$LAB_TMP/pmtu.hairpin.log
lab_lan /usr/bin/python3 "$PMTU_PY" from-lan --server "$LAB_GW_WAN_IP" --port "$HAIRPIN_PORT" \
    --sport "$((LAN_PORT + 2))" --payload 100 --ttl-probe >"$log" 2>&1 || lab_fail "the hairpin probe failed: $(cat "$log")"
check_probe "hairpin: the LAN host cannot use the gateway's time exceeded" --log "$log" --expect ttl \
    --outer-src "$LAB_GW_WAN_IP" --quoted-src "$LAB_LAN_IP" --quoted-dst "$LAB_GW_WAN_IP"
lab_ok "hairpin: the time exceeded quotes the WAN endpoint the LAN host dialled"
log=$LAB_TMP/pmtu.unreachable.log
lab_lan /usr/bin/python3 "$PMTU_PY" from-lan --server "$NO_NEIGHBOUR" --port 9 --sport "$((LAN_PORT + 3))" \
    --payload 100 --wait 4.5 >"$log" 2>&1 || lab_fail "the unreachable probe failed: $(cat "$log")"
check_probe "no WAN neighbour: the LAN host cannot use the gateway's host unreachable" --log "$log" --expect host \
    --outer-src "$LAB_GW_WAN_IP" --quoted-src "$LAB_LAN_IP" --quoted-dst "$NO_NEIGHBOUR"
lab_ok "no WAN neighbour: the host unreachable reaches the LAN host quoting what it sent"

dropped=$(counter gateway_icmp_error_without_flow)
[[ $dropped == 0 ]] || lab_fail "$dropped of the gateway's ICMP errors were dropped as of no known flow"
echo "PASS  the gateway's own ICMP errors quote what the sender sent: both ways at MTUs 1400, 1280 and 1492, hairpinned, after FORWARD"
