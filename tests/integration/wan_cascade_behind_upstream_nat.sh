#!/usr/bin/env bash
# Cascading NAT: gatewayd behind the ISP's NAT (lab_up --upstream-nat: its WAN address is
# 100.64.0.2, RFC 6598 shared space, and the ISP namespace MASQUERADEs to 203.0.113.1), with a
# STUN server (stund) on the WAN host.
#   - gatewayctl status says so: class shared (CGNAT), cascade yes, STUN's public address, and the
#     warning a user reads; the log has that warning line;
#   - the daemon's own STUN query passes its own firewall, and UPnP's GetExternalIPAddress
#     (upnpc -s) reports the public address STUN found, not the WAN address;
#   - the WAN address changes under it (wan.address: auto, an address swap on wan0): the log says
#     so, status shows the new address, the hairpin rule follows, and NAT keeps working for new flows.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "gatewayd's WAN classification, STUN and status are tested here; LAB_NAT=${LAB_NAT:-}"

readonly ECHO_PORT=7070 NEW_WAN_IP=100.64.0.3

# wan_field KEY: one member of status's "wan" object.
wan_field() {
    lab_ctl --json status | "$LAB_PY" -c 'import json, sys
v = json.load(sys.stdin)["wan"]
for k in sys.argv[1].split("."): v = v[k]
print("null" if v is None else v)' "$1"
}

wan_field_is() { [[ $(wan_field "$1") == "$2" ]]; }

lab_heading "gatewayd behind the ISP's NAT, STUN server on the WAN host"
lab_upnp_up --upstream-nat --stun --wan-key "stun=$LAB_STUN_IP:$LAB_STUN_PORT"
lab_bg wan echo "$LAB_PY" "$LAB_NET_PY" udp-echo --port "$ECHO_PORT"
lab_wait_listen wan udp "$ECHO_PORT"

# The query runs at start, off the main loop; its retransmissions end within 10 s.
lab_poll 12 wan_field_is stun answered ||
    lab_fail "STUN did not answer within 12 s: wan.stun=$(wan_field stun) $(wan_field stun_problem 2>/dev/null || true)"
lab_ok "the daemon's own STUN query passed its firewall and was answered"

[[ $(wan_field address) == "$LAB_GW_WAN_IP" ]] || lab_fail "status wan.address is $(wan_field address), not $LAB_GW_WAN_IP"
[[ $(wan_field class) == "shared (CGNAT)" && $(wan_field rfc) == "RFC 6598" ]] ||
    lab_fail "status wan.class is '$(wan_field class)' ($(wan_field rfc)), expected shared (CGNAT) (RFC 6598)"
[[ $(wan_field cascade) == yes ]] || lab_fail "status wan.cascade is $(wan_field cascade), expected yes"
[[ $(wan_field public_address) == "$LAB_ISP_PUBLIC_IP" ]] ||
    lab_fail "status wan.public_address is $(wan_field public_address), expected the ISP's $LAB_ISP_PUBLIC_IP"
status_text=$(lab_ctl status --all)
grep -q "^wan.cascade: yes$" <<<"$status_text" || lab_fail "gatewayctl status --all shows no 'wan.cascade: yes':"$'\n'"$status_text"
grep -q "^warnings: WAN address $LAB_GW_WAN_IP is shared (CGNAT) (RFC 6598): another NAT is upstream" <<<"$status_text" ||
    lab_fail "gatewayctl status --all shows no cascade warning:"$'\n'"$status_text"
# The condensed status says the same in its WAN and warning lines.
status_text=$(lab_ctl status)
grep -qE "^WAN +$LAB_GW_WAN_IF $LAB_GW_WAN_IP \(shared \(CGNAT\)\), another NAT upstream: yes, the internet sees $LAB_ISP_PUBLIC_IP\$" \
    <<<"$status_text" || lab_fail "gatewayctl status shows no cascade in its WAN line:"$'\n'"$status_text"
grep -q "^warning  *WAN address $LAB_GW_WAN_IP is shared (CGNAT) (RFC 6598): another NAT is upstream" <<<"$status_text" ||
    lab_fail "gatewayctl status shows no cascade warning:"$'\n'"$status_text"
lab_ok "gatewayctl status: $LAB_GW_WAN_IP shared (CGNAT, RFC 6598), cascade yes, the internet sees $LAB_ISP_PUBLIC_IP"

warning="WAN address $LAB_GW_WAN_IP is shared (CGNAT) (RFC 6598): another NAT is upstream; port mappings will not be reachable from the internet"
grep -qF "$warning" "$LAB_DAEMON_LOG" || lab_fail "the log has no line '$warning'"
lab_ok "the log warns: $warning"

lab_upnp_discover lan || lab_fail "SSDP discovery found no IGD: $LAB_UPNP_DISCOVERY"
out=$(lab_upnpc lan -s 2>&1) || true
grep -q "ExternalIPAddress = $LAB_ISP_PUBLIC_IP" <<<"$out" ||
    lab_fail "upnpc -s: GetExternalIPAddress does not report STUN's $LAB_ISP_PUBLIC_IP:"$'\n'"$out"
lab_ok "GetExternalIPAddress (upnpc -s) reports the public address $LAB_ISP_PUBLIC_IP"
lab_upnp_map lan TCP 40080 8080 "behind-cgnat"
lab_ok "wan.cascade_mappings: warn (default) still grants AddPortMapping"

lab_udp_gets_through "$ECHO_PORT" || lab_fail "UDP LAN→WAN does not get through the two NATs"
lab_ok "UDP LAN→WAN gets through both NATs"

lab_heading "the WAN address changes: $LAB_GW_WAN_IP -> $NEW_WAN_IP"
# Promoted, the new address survives the old one's removal (without this the kernel deletes the
# secondaries of a removed primary address); the default route is put back in case it went too.
lab_gw sysctl -qw "net.ipv4.conf.$LAB_GW_WAN_IF.promote_secondaries=1"
lab_gw ip addr add "$NEW_WAN_IP/$LAB_PREFIX_LEN" dev "$LAB_GW_WAN_IF"
lab_gw ip addr del "$LAB_GW_WAN_IP/$LAB_PREFIX_LEN" dev "$LAB_GW_WAN_IF"
lab_gw ip route replace default via "$LAB_ISP_IP"
lab_poll 5 wan_field_is address "$NEW_WAN_IP" || lab_fail "status wan.address is still $(wan_field address) 5 s after the change"
[[ $(lab_ctl --json status | "$LAB_PY" -c 'import json,sys; print(json.load(sys.stdin)["wan_address"])') == "$NEW_WAN_IP" ]] ||
    lab_fail "status wan_address (the engine's) is not $NEW_WAN_IP"
[[ $(wan_field counters.address_changes) == 1 ]] || lab_fail "wan.counters.address_changes is $(wan_field counters.address_changes), expected 1"
grep -qF "WAN address changed: $LAB_GW_WAN_IP -> $NEW_WAN_IP" "$LAB_DAEMON_LOG" || lab_fail "the log does not say the WAN address changed"
lab_gw iptables-save -t mangle | grep -q -- "-d $NEW_WAN_IP/32 .*GATEWAYD_HAIRPIN" ||
    lab_fail "the hairpin rule does not name $NEW_WAN_IP:"$'\n'"$(lab_gw iptables-save -t mangle)"
lab_ok "noticed: status and engine on $NEW_WAN_IP, counted, logged, hairpin rule moved"
out=$(lab_upnpc lan -s 2>&1) || true
grep -q "ExternalIPAddress = $LAB_ISP_PUBLIC_IP" <<<"$out" ||
    lab_fail "upnpc -s after the change: GetExternalIPAddress is not $LAB_ISP_PUBLIC_IP:"$'\n'"$out"
if grep -qF "external address reported to UPnP clients: $LAB_ISP_PUBLIC_IP -> $NEW_WAN_IP" "$LAB_DAEMON_LOG"; then
    lab_fail "the reported external address flapped to the private $NEW_WAN_IP while STUN was asked again"
fi
lab_ok "GetExternalIPAddress stays $LAB_ISP_PUBLIC_IP across the change (no flap to the private address)"

lab_udp_gets_through "$ECHO_PORT" || lab_fail "UDP LAN→WAN does not get through after the WAN address changed"
lab_ping_gets_through || lab_fail "ping LAN→WAN does not get through after the WAN address changed"
lab_ok "new flows LAN→WAN get through from the new address"
out=$(lab_ctl reload 2>&1) || lab_fail "a reload after the WAN address change is refused: $out"
lab_ok "a reload after the change is applied (the engine's WAN address is the interface's): $out"

lab_poll 12 wan_field_is stun answered || lab_fail "STUN was not asked again from $NEW_WAN_IP: $(wan_field stun)"
[[ $(wan_field counters.stun_queries) == 2 && $(wan_field cascade) == yes ]] ||
    lab_fail "after the change: stun_queries $(wan_field counters.stun_queries) (expected 2), cascade $(wan_field cascade)"
lab_ok "STUN asked again from the new address: still behind $(wan_field public_address)"
lab_stop_pid "$LAB_STUN_PID" 2
LAB_STUN_PID=''
