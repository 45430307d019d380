#!/usr/bin/env bash
# (c) ICMP echo from the LAN is answered, and on the WAN wire every echo request carries the
# gateway's WAN address as its source: no private address ever appears there.
# LAB_NAT=gatewayd (default) or kernel (iptables MASQUERADE, to check the test itself).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly PINGS=3

# wan_fields DISPLAY-FILTER FIELD...: one line per captured packet that matches.
wan_fields() {
    local filter=$1 field args=()
    shift
    for field in "$@"; do args+=(-e "$field"); done
    lab_capture_read -Y "$filter" -T fields -E separator=' ' "${args[@]}"
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
lab_capture_start wan "$LAB_HOST_IF"
check_ping_answered
lab_capture_stop 'icmp.type == 8' "$PINGS"
check_wire_shows_only_gateway
echo "PASS  ICMP echo is translated to $LAB_GW_WAN_IP ($LAB_NAT_MODE)"
