#!/usr/bin/env bash
# (c) ICMP echo from the LAN is answered, and on the WAN wire every echo request carries the
# gateway's WAN address as its source: no private address ever appears there.
# LAB_NAT=gatewayd (default) or kernel (iptables MASQUERADE, to check the test itself).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly PINGS=3

start_wan_capture() {
    lab_bg wan tshark tshark -n -i "$LAB_HOST_IF" -f ip -w "$LAB_TMP/wan.pcap"
    CAPTURE_PID=$LAB_BG_PID
    # tshark says so once the capture filter is installed; earlier packets would be missed.
    lab_wait_log "$LAB_TMP/tshark.log" "Capturing on" 10 ||
        lab_fail "tshark did not start capturing on the WAN host: $(cat "$LAB_TMP/tshark.log")"
}

# stop_wan_capture: dumpcap writes packets in batches and SIGTERM discards the last batch, so first
# wait (up to 5 s) for the pcap to hold every echo request we sent.
stop_wan_capture() {
    lab_poll 5 capture_holds_echo_requests "$PINGS" || true
    lab_stop_pid "$CAPTURE_PID"
}

capture_holds_echo_requests() {
    (($(wan_fields 'icmp.type == 8' frame.number | wc -l) >= $1))
}

# wan_fields FILTER FIELD...: one line per captured packet matching the display FILTER.
wan_fields() {
    local filter=$1 field args=()
    shift
    for field in "$@"; do args+=(-e "$field"); done
    tshark -n -r "$LAB_TMP/wan.pcap" -Y "$filter" -T fields -E separator=' ' "${args[@]}" 2>/dev/null
}

check_ping_answered() {
    local output
    output=$(lab_py lan ping --count "$PINGS" "$LAB_WAN_IP") || lab_fail "ping LAN→WAN failed: $output"
    lab_ok "ping LAN→WAN: $(tail -n 1 <<<"$output")"
}

check_wire_shows_only_gateway() {
    local sources private
    sources=$(wan_fields 'icmp.type == 8' ip.src | sort | uniq -c | sed 's/^ *//')
    [[ -n $sources ]] || lab_fail "the WAN capture holds no ICMP echo request"
    [[ $sources == "$PINGS $LAB_GW_WAN_IP" ]] ||
        lab_fail "echo requests on the WAN wire, by count and source, were '$sources'; expected '$PINGS $LAB_GW_WAN_IP'"
    lab_ok "WAN capture: $PINGS echo requests, all from $LAB_GW_WAN_IP"

    private=$(wan_fields 'ip.addr == 10.0.0.0/8 || ip.addr == 172.16.0.0/12 || ip.addr == 192.168.0.0/16' ip.src ip.dst)
    [[ -z $private ]] || lab_fail "private addresses on the WAN wire (src dst): $private"
    lab_ok "WAN capture: no private address in any IP packet"
}

lab_up --nat "${LAB_NAT:-gatewayd}"
lab_heading "ICMP echo LAN→WAN through the NAT ($LAB_NAT_MODE)"
start_wan_capture
check_ping_answered
stop_wan_capture
check_wire_shows_only_gateway
echo "PASS  ICMP echo is translated to $LAB_GW_WAN_IP ($LAB_NAT_MODE)"
