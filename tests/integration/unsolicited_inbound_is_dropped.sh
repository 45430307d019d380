#!/usr/bin/env bash
# (d) Nothing the WAN side starts reaches the LAN: UDP and TCP sent by the WAN host to an unmapped
# port of the gateway, or straight to the LAN host's private address, never arrive at a listener
# on the LAN host.
# LAB_NAT=gatewayd (default) or kernel (iptables MASQUERADE, to check the test itself).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly LISTEN_PORT=40000

arrivals() { cat "$LAB_TMP/arrivals" 2>/dev/null || true; }

start_lan_listener() {
    lab_bg lan listener "$LAB_PY" "$LAB_NET_PY" listen-log --port "$LISTEN_PORT" --log "$LAB_TMP/arrivals"
    lab_wait_listen lan udp "$LISTEN_PORT"
    lab_wait_listen lan tcp "$LISTEN_PORT"
}

# A listener that hears nothing proves nothing unless it is shown to hear: the gateway itself,
# which is on the LAN, sends it one datagram and one connection.
check_listener_hears_the_lan() {
    lab_py gw udp-send "$LAB_LAN_IP" "$LISTEN_PORT" control-udp
    lab_py gw tcp-send "$LAB_LAN_IP" "$LISTEN_PORT" control-tcp || lab_fail "the gateway cannot reach the LAN listener over TCP"
    if ! lab_wait_log "$LAB_TMP/arrivals" control-udp || ! lab_wait_log "$LAB_TMP/arrivals" control-tcp; then
        lab_fail "the LAN listener did not log the gateway's control probes: $(arrivals)"
    fi
    lab_ok "control: the LAN listener on port $LISTEN_PORT hears UDP and TCP from the LAN side"
}

# send_from_wan HOST TAG: one UDP datagram and one TCP connection attempt carrying TAG.
send_from_wan() {
    lab_py wan udp-send "$1" "$LISTEN_PORT" "$2-udp"
    if lab_py wan tcp-send --timeout 1 "$1" "$LISTEN_PORT" "$2-tcp" 2>/dev/null; then
        lab_fail "a TCP connection from the WAN host to $1:$LISTEN_PORT was accepted"
    fi
}

check_nothing_arrived() {
    # The probes were sent before the TCP attempt timed out; a forwarded datagram would be logged
    # by now, but give a slow (userspace) NAT a moment more before concluding.
    if lab_poll 1 grep -sq unsolicited "$LAB_TMP/arrivals"; then
        lab_fail "unsolicited WAN traffic reached the LAN host: $(grep unsolicited "$LAB_TMP/arrivals")"
    fi
}

lab_up --nat "${LAB_NAT:-gatewayd}"
lab_heading "unsolicited WAN→LAN traffic is dropped ($LAB_NAT_MODE)"
start_lan_listener
check_listener_hears_the_lan

send_from_wan "$LAB_GW_WAN_IP" unsolicited-to-gateway
check_nothing_arrived
lab_ok "UDP and TCP from the WAN host to $LAB_GW_WAN_IP:$LISTEN_PORT (unmapped) did not reach the LAN host"

# Only for this check the WAN host gets a route to the private network, as a hostile neighbour
# on the same wire would have; the lab's WAN host normally cannot even address the LAN.
lab_wan ip route add "$LAB_LAN_NET" via "$LAB_GW_WAN_IP"
send_from_wan "$LAB_LAN_IP" unsolicited-to-lan
check_nothing_arrived
lab_wan ip route del "$LAB_LAN_NET" via "$LAB_GW_WAN_IP"
lab_ok "UDP and TCP from the WAN host straight to $LAB_LAN_IP:$LISTEN_PORT did not reach the LAN host"
echo "PASS  unsolicited inbound traffic is dropped ($LAB_NAT_MODE)"
