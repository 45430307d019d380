#!/usr/bin/env bash
# ctest: sanitize
# A router at boot (issue 13): gatewayd starts while its links settle, and its UPnP, NAT-PMP and
# PCP front ends come up by themselves once the LAN can carry them.
#  1. The lab keeps IPv6 DAD on (lab_up --dad) and starts gatewayd the moment the links exist,
#     without waiting for DAD: it reports ready, and UPnP (upnpc -s on the LAN host) and NAT-PMP
#     (natpmpc) answer with the WAN address once the LAN address is usable.
#  2. Started with the LAN link without carrier, without its IPv4 address (lan.networks is set),
#     its IPv6 address tentative (a long DAD), and the WAN link down, gatewayd reports ready (the packet path runs), logs once that UPnP and
#     NAT-PMP/PCP wait for the LAN (not once per retry), and starts them when the carrier comes
#     back, DAD is over and the address is there; then a LAN host's TCP reaches the WAN host translated, and UPnP and NAT-PMP answer.
#  3. The gateway's LAN address changes: both front ends restart on the new one; SSDP discovery
#     finds the IGD at the new address, which answers, and so does NAT-PMP.
# On the gatewayd before this, both starts exit ("UPnP: cannot start on lan0: UPNP_E_SOCKET_BIND").
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly WAN_PORT=8080 NEW_LAN_IP=192.168.50.254

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "start-up is gatewayd's; LAB_NAT=${LAB_NAT:-}"
command -v natpmpc >/dev/null || lab_skip "missing tool: natpmpc (package natpmp-utils; tools/install-deps.sh)"
command -v upnpc >/dev/null || lab_skip "missing tool: upnpc (package miniupnpc; tools/install-deps.sh)"

# front_ends_running: both front ends said they run (this start's log).
front_ends_running() {
    grep -q 'UPnP: running on' "$LAB_DAEMON_LOG" && grep -q 'NAT-PMP/PCP: running on' "$LAB_DAEMON_LOG"
}

check_front_ends_answer() {
    lab_poll 15 front_ends_running ||
        lab_fail "$1: UPnP and NAT-PMP/PCP did not start; gatewayd logged:"$'\n'"$(cat "$LAB_DAEMON_LOG")"
    local out
    out=$(lab_lan upnpc -u "http://$LAB_GW_LAN_IP:$LAB_UPNP_HTTP_PORT/igd/rootDesc.xml" -s 2>&1) ||
        lab_fail "$1: upnpc -s failed:"$'\n'"$out"
    grep -q "ExternalIPAddress = $LAB_GW_WAN_IP" <<<"$out" || lab_fail "$1: upnpc -s did not get $LAB_GW_WAN_IP:"$'\n'"$out"
    out=$(lab_lan natpmpc -g "$LAB_GW_LAN_IP" 2>&1) || lab_fail "$1: natpmpc failed:"$'\n'"$out"
    grep -q "^Public IP address : $LAB_GW_WAN_IP\$" <<<"$out" || lab_fail "$1: natpmpc did not get $LAB_GW_WAN_IP:"$'\n'"$out"
    lab_ok "$1: UPnP and NAT-PMP answer ExternalIPAddress $LAB_GW_WAN_IP"
}

# Part 1: started by lab_up as soon as the links are up, DAD still running.
lab_up --nat gatewayd --ipv6 --dad --config <(lab_port_control_config)
lab_heading "gatewayd started the moment the links exist (IPv6 DAD on, not waited for)"
lab_ok "gatewayd reported ready; $(grep -c 'UPnP: waiting for the LAN' "$LAB_DAEMON_LOG" || true) UPnP wait line(s) logged"
check_front_ends_answer "DAD on at start"
lab_daemon_stop

# Part 2: the LAN without carrier and its IPv6 address tentative, the WAN down.
lab_heading "gatewayd started with the LAN link without carrier and the WAN link down"
lab_lan ip link set "$LAB_HOST_IF" down
# A DAD of a minute: the address stays tentative for as long as the test needs it to.
lab_gw sysctl -qw "net.ipv6.conf.$LAB_GW_LAN_IF.dad_transmits=60"
lab_gw ip -6 addr flush dev "$LAB_GW_LAN_IF"
lab_gw ip addr add "$LAB_GW_LAN6_IP/64" dev "$LAB_GW_LAN_IF"
lab_gw ip link set "$LAB_GW_WAN_IF" down
lab_gw ip -4 addr flush dev "$LAB_GW_LAN_IF" # no IPv4 address on the LAN yet either (lan.networks is set)
[[ -n $(lab_gw ip -6 addr show dev "$LAB_GW_LAN_IF" tentative) ]] ||
    lab_fail "the setup is wrong: $LAB_GW_LAN_IF's IPv6 address is not tentative"
lab_daemon_start
lab_ok "gatewayd reported ready with $LAB_GW_LAN_IF without IPv4 address and carrier, its IPv6 address tentative, $LAB_GW_WAN_IF down"
grep -q "UPnP: waiting for the LAN: $LAB_GW_LAN_IF has no IPv4 address" "$LAB_DAEMON_LOG" ||
    lab_fail "gatewayd did not say UPnP waits for the LAN:"$'\n'"$(cat "$LAB_DAEMON_LOG")"
sleep 3 # three supervision ticks with the LAN still not ready
waits=$(grep -c 'UPnP: waiting for the LAN' "$LAB_DAEMON_LOG" || true)
((waits == 1)) || lab_fail "UPnP's wait was logged $waits times in 3 s, not once"
state=$(lab_ctl --json status | lab_json front_ends.UPnP.state)
[[ $state == waiting ]] || lab_fail "gatewayctl status says UPnP is '$state', not waiting"
lab_ok "UPnP and NAT-PMP/PCP wait for the LAN, logged once; gatewayctl status: front_ends.UPnP.state $state"
lab_lan ip link set "$LAB_HOST_IF" up
lab_lan ip route add default via "$LAB_GW_LAN_IP" # went with the link
lab_gw ip addr del "$LAB_GW_LAN6_IP/64" dev "$LAB_GW_LAN_IF" # DAD over: the address is usable
lab_gw ip addr add "$LAB_GW_LAN6_IP/64" dev "$LAB_GW_LAN_IF" nodad
lab_gw ip addr add "$LAB_GW_LAN_IP/$LAB_PREFIX_LEN" dev "$LAB_GW_LAN_IF"
lab_gw ip link set "$LAB_GW_WAN_IF" up
lab_bg wan listen-wan "$LAB_PY" "$LAB_NET_PY" listen-log --port "$WAN_PORT" --log "$LAB_TMP/tcp-wan.log"
lab_wait_listen wan tcp "$WAN_PORT"
check_front_ends_answer "carrier back"
lab_poll 5 lab_py lan tcp-send "$LAB_WAN_IP" "$WAN_PORT" boot >/dev/null ||
    lab_fail "a LAN host's TCP did not reach the WAN host once the links were up"
lab_poll 2 grep -q "^tcp $LAB_GW_WAN_IP:[0-9]* boot" "$LAB_TMP/tcp-wan.log" ||
    lab_fail "the WAN host did not see the translated address: $(cat "$LAB_TMP/tcp-wan.log")"
lab_ok "a LAN host's TCP reaches the WAN host as $LAB_GW_WAN_IP"

# Part 3: the LAN address changes under the running daemon.
lab_heading "the LAN address changes: the IGD's URLs and NAT-PMP follow"
lab_gw ip addr del "$LAB_GW_LAN_IP/$LAB_PREFIX_LEN" dev "$LAB_GW_LAN_IF"
lab_gw ip addr add "$NEW_LAN_IP/$LAB_PREFIX_LEN" dev "$LAB_GW_LAN_IF"
lab_poll 10 grep -q "NAT-PMP/PCP: running on $NEW_LAN_IP" "$LAB_DAEMON_LOG" ||
    lab_fail "NAT-PMP/PCP did not move to $NEW_LAN_IP:"$'\n'"$(cat "$LAB_DAEMON_LOG")"
lab_poll 10 grep -q "UPnP: running on $NEW_LAN_IP" "$LAB_DAEMON_LOG" ||
    lab_fail "UPnP did not move to $NEW_LAN_IP:"$'\n'"$(cat "$LAB_DAEMON_LOG")"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l after the move:"$'\n'"$LAB_UPNP_DISCOVERY"
[[ $LAB_UPNP_URL == "http://$NEW_LAN_IP:$LAB_UPNP_HTTP_PORT/"* ]] || lab_fail "SSDP still announces $LAB_UPNP_URL"
out=$(lab_upnpc lan -s 2>&1) || lab_fail "upnpc -s at $LAB_UPNP_URL failed:"$'\n'"$out"
grep -q "ExternalIPAddress = $LAB_GW_WAN_IP" <<<"$out" || lab_fail "upnpc -s at the new address said:"$'\n'"$out"
out=$(lab_lan natpmpc -g "$NEW_LAN_IP" 2>&1) || lab_fail "natpmpc -g $NEW_LAN_IP failed:"$'\n'"$out"
grep -q "^Public IP address : $LAB_GW_WAN_IP\$" <<<"$out" || lab_fail "natpmpc -g $NEW_LAN_IP said:"$'\n'"$out"
lab_ok "the IGD is found at $LAB_UPNP_URL and answers; NAT-PMP answers on $NEW_LAN_IP"
echo "PASS  gatewayd starts before its links are ready, and its front ends follow the LAN"
