#!/usr/bin/env bash
# ctest: sanitize
# The LAN is hostile too (issue 14): one LAN host (lan2) forges NAT-PMP and PCP requests with scapy,
# in frames from its own MAC, with the source address of another LAN host, of the gateway itself
# (the LAN interface has accept_local=1), of the LAN's broadcast address, and of an address no host
# owns. None makes a mapping: the WAN host reaches neither the other host nor the gateway's own SSDP,
# and each is dropped under its own counter in `gatewayctl status --json` (lan_source_wrong_mac,
# lan_source_is_gateway, lan_source_is_broadcast, lan_source_unresolved). The real client natpmpc
# on the other LAN host maps its own port throughout. Fails on code that trusts the UDP source.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly VICTIM_PORT=7300 GW_PORT=1900 LEGIT_PORT=7400
LAB_FORGE_PY=$LAB_DIR/labforge.py

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "source trust is gatewayd's (drop counters)"
/usr/bin/python3 -c 'import scapy' 2>/dev/null || lab_skip "scapy (python3-scapy) is not installed for /usr/bin/python3"
command -v natpmpc >/dev/null || lab_skip "missing tool: natpmpc (package natpmp-utils; tools/install-deps.sh)"

# status_json: gatewayctl status --json; the daemon's log if it does not answer.
status_json() {
    lab_ctl --json status ||
        lab_fail "gatewayctl status --json failed:"$'\n'"$(grep -v 'drop rule' "$LAB_DAEMON_LOG" | tail -40)"
}

# drops REASON: gatewayctl status's drops.REASON (0 when absent).
drops() {
    status_json | /usr/bin/python3 -c 'import json, sys
print(json.load(sys.stdin).get("counters", {}).get("drops", {}).get(sys.argv[1], 0))' "$1"
}

# forge natpmp|pcp SRC PROTOCOL INTERNAL EXTERNAL [COUNT]: from lan2, in frames from lan2's own MAC.
forge() {
    local gw_mac
    gw_mac=$(ip -n "$LAB_NS_GW" -br link show dev "$LAB_GW_LAN_IF" | awk '{print $3}')
    lab_in lan2 /usr/bin/python3 "$LAB_FORGE_PY" "$1" --interface "$LAB_HOST_IF" --gw-mac "$gw_mac" --src "$2" \
        --server "$LAB_GW_LAN_IP" --protocol "$3" --internal "$4" --external "$5" --count "${6:-3}" >/dev/null ||
        lab_fail "forging $1 from $2 failed"
}

# expect_dropped REASON BEFORE WHAT
expect_dropped() {
    local now
    now=$(drops "$1")
    ((now > $2)) || lab_fail "$3: drops.$1 stayed at $now; status:"$'\n'"$(status_json)"$'\n'"$(lab_upnp_log | tail -20)"
    lab_ok "$3: dropped as $1 ($2 -> $now)"
}

lab_upnp_up --lan-hosts 2
lab_heading "forged NAT-PMP and PCP sources from LAN host 2"
victim=$(lab_lan_ip 1) attacker=$(lab_lan_ip 2)
lab_upnp_listen lan "$VICTIM_PORT"
lab_upnp_listen lan "$LEGIT_PORT"
# Both hosts have spoken to the gateway (NAT-PMP's public address request, after ARP), so the
# gateway knows their MACs.
for role in lan lan2; do
    out=$(lab_in "$role" natpmpc -g "$LAB_GW_LAN_IP" 2>&1) || lab_fail "natpmpc on $role got no public address:"$'\n'"$out"
done

before=$(drops lan_source_wrong_mac)
forge natpmp "$victim" udp "$VICTIM_PORT" "$VICTIM_PORT"
forge pcp "$victim" tcp "$VICTIM_PORT" "$VICTIM_PORT"
expect_dropped lan_source_wrong_mac "$before" "NAT-PMP and PCP with LAN host 1's address, from host 2's MAC"
lab_upnp_expect_closed lan udp "$VICTIM_PORT" "$VICTIM_PORT" "after NAT-PMP forged with $victim"
lab_upnp_expect_closed lan tcp "$VICTIM_PORT" "$VICTIM_PORT" "after PCP forged with $victim"
lab_ok "the WAN host reaches nothing on $victim"

before=$(drops lan_source_is_gateway)
forge natpmp "$LAB_GW_LAN_IP" udp "$GW_PORT" "$GW_PORT"
forge natpmp "$LAB_GW_LAN_IP" tcp "$LAB_UPNP_HTTP_PORT" "$LAB_UPNP_HTTP_PORT"
expect_dropped lan_source_is_gateway "$before" "NAT-PMP with the gateway's own address (SSDP 1900, IGD $LAB_UPNP_HTTP_PORT)"
ssdp=$(lab_in wan /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n", (sys.argv[1], 1900))
try:
    print(s.recv(2048).decode(errors="replace"))
except socket.timeout:
    pass' "$LAB_GW_WAN_IP" 2>&1 || true)
[[ $ssdp != *HTTP/1.1* ]] || lab_fail "the gateway's SSDP answered the WAN: $ssdp"
lab_ok "the gateway's own SSDP is not mapped to the WAN"

before=$(drops lan_source_is_broadcast)
forge pcp 192.168.50.255 udp "$VICTIM_PORT" "$VICTIM_PORT"
expect_dropped lan_source_is_broadcast "$before" "PCP with the LAN's broadcast address as client"

before=$(drops lan_source_unresolved)
forge natpmp 192.168.50.77 udp "$VICTIM_PORT" "$VICTIM_PORT" 20
expect_dropped lan_source_unresolved "$before" "20 NAT-PMP requests from an address no host owns"
# The gateway asked for the address (one ARP request through the kernel's neighbour table); nobody answers.
neigh=$(ip -n "$LAB_NS_GW" neigh show 192.168.50.77 dev "$LAB_GW_LAN_IF")
[[ $neigh == *INCOMPLETE* || $neigh == *FAILED* ]] || lab_fail "the gateway did not try to resolve 192.168.50.77: '$neigh'"
lab_ok "the gateway asked who has 192.168.50.77 ($neigh)"
# 1152 requests from 9 invented sources once filled upnp.max_mappings: now none is even asked
# about more than the kernel-request limit allows, and none maps.
asked_before=$(status_json | lab_json lan_neighbours.resolutions_asked)
forge natpmp 192.168.50.100 udp "$VICTIM_PORT" "$VICTIM_PORT" 1152 9
asked=$(( $(status_json | lab_json lan_neighbours.resolutions_asked) - asked_before ))
((asked <= 256)) || lab_fail "1152 forged requests made the gateway resolve $asked addresses"
mappings=$(status_json | lab_json upnp_mappings)
((mappings == 0)) || lab_fail "forged requests from invented sources left $mappings mappings"
lab_ok "1152 NAT-PMP requests from 9 invented sources: no mapping, $asked address resolution(s) asked"
listing=$(lab_ctl mappings 2>&1)
! grep -qE "192\.168\.50\.(1|77|255|10):" <<<"$listing" || lab_fail "a forged request made a mapping:"$'\n'"$listing"
lab_ok "gatewayctl mappings holds none of the forged ones"

lab_heading "the real client on LAN host 1 keeps working"
out=$(lab_in lan natpmpc -g "$LAB_GW_LAN_IP" -a "$LEGIT_PORT" "$LEGIT_PORT" udp 600 2>&1) ||
    lab_fail "natpmpc on LAN host 1 failed:"$'\n'"$out"
lab_upnp_expect_open lan udp "$LEGIT_PORT" "$LEGIT_PORT" "natpmpc's own mapping on LAN host 1"
lab_ok "natpmpc on $victim mapped UDP $LEGIT_PORT, reached from the WAN host"
echo "PASS  forged LAN sources (another host, the gateway, broadcast, nobody) make no mapping and are counted"
