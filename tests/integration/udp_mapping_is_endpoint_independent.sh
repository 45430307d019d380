#!/usr/bin/env bash
# (b) UDP from the LAN leaves with the gateway's WAN address, and one internal endpoint keeps one
# external port whatever WAN endpoint it talks to (RFC 4787 REQ-1, endpoint-independent mapping).
# LAB_NAT=gatewayd (default) or kernel (iptables MASQUERADE, to check the test itself).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly ECHO_PORT_A=7001 ECHO_PORT_B=7002

# ask_from_one_socket SERVER...: sets SEEN to what each server saw ("ip:port"), in order.
ask_from_one_socket() {
    local answers
    answers=$(lab_py lan udp-ask "$@") || lab_fail "UDP LAN→WAN: not every echo server answered: $answers"
    mapfile -t SEEN < <(awk '{ print $2 }' <<<"$answers")
    ((${#SEEN[@]} == $#)) || lab_fail "UDP LAN→WAN: expected $# answers, got: $answers"
}

# check_translated SEEN WHO: the echo server saw the gateway's WAN address.
check_translated() {
    [[ ${1%:*} == "$LAB_GW_WAN_IP" ]] ||
        lab_fail "$2 saw the datagram come from '$1'; expected $LAB_GW_WAN_IP (the gateway's WAN address)"
}

lab_up --nat "${LAB_NAT:-gatewayd}"
lab_heading "UDP LAN→WAN through the NAT ($LAB_NAT_MODE)"
lab_bg wan echo-a "$LAB_PY" "$LAB_NET_PY" udp-echo --port "$ECHO_PORT_A"
lab_bg wan echo-b "$LAB_PY" "$LAB_NET_PY" udp-echo --port "$ECHO_PORT_B"
lab_wait_listen wan udp "$ECHO_PORT_A"
lab_wait_listen wan udp "$ECHO_PORT_B"

ask_from_one_socket "$LAB_WAN_IP:$ECHO_PORT_A" "$LAB_WAN_IP:$ECHO_PORT_B"
seen=("${SEEN[@]}")
check_translated "${seen[0]}" "the echo server on port $ECHO_PORT_A"
check_translated "${seen[1]}" "the echo server on port $ECHO_PORT_B"
lab_ok "UDP echo LAN→WAN: the reply came back and the server saw ${seen[0]}"

[[ ${seen[0]#*:} == "${seen[1]#*:}" ]] ||
    lab_fail "RFC 4787 REQ-1: one LAN socket got external port ${seen[0]#*:} towards port $ECHO_PORT_A but ${seen[1]#*:} towards port $ECHO_PORT_B"
lab_ok "one LAN socket, two WAN destinations: both saw external port ${seen[0]#*:} (endpoint-independent mapping)"

ask_from_one_socket "$LAB_WAN_IP:$ECHO_PORT_B"
other=("${SEEN[@]}")
check_translated "${other[0]}" "the echo server on port $ECHO_PORT_B"
# RFC 4787 REQ-3: no port overloading; two live internal endpoints never share an external one.
[[ ${other[0]#*:} != "${seen[0]#*:}" ]] ||
    lab_fail "RFC 4787 REQ-3: a second LAN socket got the same external port ${other[0]#*:} as the first"
lab_ok "a second LAN socket got its own external port ${other[0]#*:}"
echo "PASS  UDP is translated with an endpoint-independent mapping ($LAB_NAT_MODE)"
