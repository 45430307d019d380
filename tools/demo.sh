#!/usr/bin/env bash
# The lab demo: gatewayd translating a LAN host's traffic, seen from the WAN side.
#
#   cmake -S . -B build && cmake --build build   # the demo runs build/daemon/gatewayd
#   sudo tools/demo.sh
#
# Brings up the three-namespace lab (tests/lab/lab.sh) with gatewayd on the gateway, then shows
# what a server on the WAN host sees of an HTTP request, a UDP exchange and a ping from the LAN
# host, the translated packets on the WAN wire, and a short iperf3 run; then tears it all down.
# LAB_NAT=kernel runs the same demo on iptables MASQUERADE, for comparison.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../tests/lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/lab/lab.sh"

readonly HTTP_PORT=8080 ECHO_PORT=7001 IPERF_PORT=5201

start_wan_servers() {
    lab_bg wan http "$LAB_PY" "$LAB_NET_PY" http-peer --port "$HTTP_PORT"
    lab_bg wan echo "$LAB_PY" "$LAB_NET_PY" udp-echo --port "$ECHO_PORT"
    lab_bg wan iperf iperf3 -s -1 -p "$IPERF_PORT"
    lab_wait_listen wan tcp "$HTTP_PORT"
    lab_wait_listen wan udp "$ECHO_PORT"
    lab_wait_listen wan tcp "$IPERF_PORT"
}

show_gateway() {
    if [[ $LAB_NAT_MODE == gatewayd ]]; then
        lab_heading "The gateway: gatewayd's rules, which hand packets to it over NFQUEUE"
        lab_gw iptables -t mangle -S | grep -E 'GATEWAYD|NFQUEUE'
    else
        lab_heading "The gateway: the kernel's NAT rules (LAB_NAT=$LAB_NAT_MODE)"
        lab_gw iptables -t nat -S POSTROUTING
    fi
    echo "net.ipv4.ip_forward = $(lab_gw sysctl -n net.ipv4.ip_forward)"
}

show_http() {
    lab_heading "HTTP: curl http://$LAB_WAN_IP:$HTTP_PORT/ from the LAN host ($LAB_LAN_IP)"
    echo "the WAN server answers with the peer address it saw:"
    echo "    $(lab_lan curl -sS --noproxy '*' -m 5 "http://$LAB_WAN_IP:$HTTP_PORT/")"
}

show_udp() {
    lab_heading "UDP: one datagram from the LAN host to the echo server at $LAB_WAN_IP:$ECHO_PORT"
    echo "the echo server answers with the peer address it saw:"
    lab_py lan udp-ask "$LAB_WAN_IP:$ECHO_PORT" | awk '{ print "    " $2 }'
}

show_ping() {
    lab_heading "ICMP: ping $LAB_WAN_IP from the LAN host"
    lab_py lan ping --count 3 "$LAB_WAN_IP" | sed 's/^/    /'
}

show_wire() {
    lab_heading "The WAN wire: tshark on the WAN host's $LAB_HOST_IF during a ping, a UDP exchange, a curl and a ping"
    lab_capture_start wan "$LAB_HOST_IF"
    lab_py lan ping --count 1 "$LAB_WAN_IP" >/dev/null
    lab_py lan udp-ask "$LAB_WAN_IP:$ECHO_PORT" >/dev/null
    lab_lan curl -sS --noproxy '*' -m 5 -o /dev/null "http://$LAB_WAN_IP:$HTTP_PORT/"
    # A last ping marks the end: once its reply is in the file, everything before it is too.
    lab_py lan ping --count 1 "$LAB_WAN_IP" >/dev/null
    lab_capture_stop 'icmp.type == 0' 2
    lab_capture_read | sed 's/^/    /'
    echo "sources seen on the WAN wire: $(lab_capture_read -T fields -e ip.src | sort -u | tr '\n' ' ')"
}

show_upnp() {
    [[ $LAB_NAT_MODE == gatewayd ]] || return 0
    lab_heading "UPnP: the LAN host asks for UDP port 5004 (RTP audio, as Windows Messenger did) with upnpc"
    lab_upnp_discover lan || { echo "    no IGD answered"; return 0; }
    lab_upnpc lan -e "Messenger audio" -a "$LAB_LAN_IP" 5004 5004 UDP 3600 2>&1 | grep -E "external|is redirected|failed" | sed 's/^/    /'
    lab_heading "gatewayctl status"
    lab_ctl status | sed 's/^/    /'
    lab_heading "gatewayctl mappings"
    lab_ctl mappings | sed 's/^/    /'
}

show_iperf() {
    lab_heading "iperf3: TCP from the LAN host to the WAN host for 2 s"
    lab_lan timeout 20 iperf3 -c "$LAB_WAN_IP" -p "$IPERF_PORT" -t 2 | grep -E 'sender|receiver' | sed 's/^/    /'
}

show_stop() {
    [[ -n $LAB_DAEMON_PID ]] || return 0
    lab_heading "Stopping gatewayd with SIGTERM: it removes its rules and turns forwarding off"
    lab_daemon_stop
    echo "exit status $LAB_DAEMON_RC; net.ipv4.ip_forward = $(lab_gw sysctl -n net.ipv4.ip_forward)"
    echo "GATEWAYD/NFQUEUE rules left: $(lab_gw iptables-save | grep -cE 'GATEWAYD|NFQUEUE' || true)"
    lab_heading "What gatewayd logged"
    sed 's/^/    /' "$LAB_DAEMON_LOG"
}

mode=${LAB_NAT:-gatewayd}
if [[ $mode == gatewayd && ! -x $GATEWAYD ]]; then
    echo "no gatewayd at $GATEWAYD: build it first (cmake -S . -B build && cmake --build build)" >&2
    exit 1
fi
lab_up --nat "$mode"
lab_heading "The lab"
lab_describe
start_wan_servers
show_gateway
show_http
show_udp
show_ping
show_wire
show_upnp
show_iperf
show_stop
lab_heading "Tearing the lab down"
lab_down
echo "done"
