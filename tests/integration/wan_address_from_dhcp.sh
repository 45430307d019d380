#!/usr/bin/env bash
# ctest: sanitize
# The WAN address from a real DHCP server (issue 13): dnsmasq on the WAN host, busybox udhcpc in
# the gateway namespace (with a script of ours: it sets the address and the default route with
# `ip` in the namespace, never the machine's /etc/resolv.conf; pid and lease files in $LAB_TMP).
#  1. gatewayd starts before the lease (wan.address: auto, wan0 without an IPv4 address, a
#     default route via the WAN host): it reports ready and forwards nothing (a LAN host's TCP
#     does not reach the WAN host; counted as no_wan_address), while UPnP and NAT-PMP/PCP run.
#  2. The lease brings 203.0.113.50: a LAN host's TCP reaches the WAN host from it;
#     GetExternalIPAddress (upnpc -s) and natpmpc say it; a GENA subscriber of WANIPConnection
#     gets ExternalIPAddress; NAT-PMP announces it on 224.0.0.1:5350, with a PCP ANNOUNCE.
#  3. dnsmasq comes back with another range and udhcpc renews (NAK, new lease 203.0.113.60):
#     the same five follow, a LAN host's UDP stream running through the change goes on from the
#     new address, and the WAN side's capture shows no packet from the old address after
#     gatewayd took the new one, and never a LAN address untranslated.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly FIRST=203.0.113.50 SECOND=203.0.113.60 TCP_PORT=8080 UDP_PORT=7000 CALLBACK_PORT=8000

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "following the WAN address is gatewayd's; LAB_NAT=${LAB_NAT:-}"
for tool in dnsmasq udhcpc natpmpc upnpc tshark; do
    command -v "$tool" >/dev/null || lab_skip "missing tool: $tool (tools/install-deps.sh installs it)"
done

# The udhcpc script: only `ip` in the gateway namespace (udhcpc runs there).
write_udhcpc_script() {
    cat >"$LAB_TMP/udhcpc.sh" <<'EOF'
#!/bin/sh
case $1 in
deconfig) ip -4 addr flush dev "$interface" ;;
bound | renew)
    ip addr replace "$ip/${mask:-24}" dev "$interface"
    for old in $(ip -4 -o addr show dev "$interface" | awk '{print $4}'); do
        [ "$old" = "$ip/${mask:-24}" ] || ip addr del "$old" dev "$interface"
    done
    [ -z "$router" ] || ip route replace default via "${router%% *}" dev "$interface" onlink
    ;;
esac
exit 0
EOF
    chmod +x "$LAB_TMP/udhcpc.sh"
}

DNSMASQ_PID=''
# dnsmasq_start N ADDRESS: the WAN host's DHCP server (no DNS), leasing only ADDRESS.
dnsmasq_start() {
    lab_bg wan "dnsmasq.$1" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --interface="$LAB_HOST_IF" \
        --bind-interfaces --dhcp-authoritative --dhcp-range="$2,$2,255.255.255.0,2m" \
        --dhcp-option=3,"$LAB_WAN_IP" --dhcp-leasefile="$LAB_TMP/dnsmasq.$1.leases" \
        --pid-file="$LAB_TMP/dnsmasq.$1.pid" --user=root --group=root --log-dhcp --log-facility=-
    DNSMASQ_PID=$LAB_BG_PID
    lab_wait_listen wan udp 67
}

# The LAN host's listener for NAT-PMP and PCP announcements: one line per datagram, with the time.
announcements_start() {
    lab_bg lan announcements "$LAB_PY" -c '
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("224.0.0.1", 5350))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton("224.0.0.1") + socket.inet_aton(sys.argv[1]))
while True:
    data, source = s.recvfrom(1100)
    if data[0] == 0 and len(data) >= 12:
        print("%.3f natpmp from %s address %s" % (time.time(), source[0], socket.inet_ntoa(data[8:12])), flush=True)
    elif data[0] == 2 and len(data) >= 24:
        print("%.3f pcp from %s opcode %d result %d" % (time.time(), source[0], data[1], data[3]), flush=True)
' "$LAB_LAN_IP"
    lab_wait_listen lan udp 5350
}

# announced_after ADDRESS TIME: NAT-PMP announced ADDRESS and a PCP ANNOUNCE came, both after TIME.
announced_after() {
    awk -v t="$2" -v a="$1" '$1 >= t && $2 == "natpmp" && $6 == a { n = 1 } $1 >= t && $2 == "pcp" && $6 == 128 { p = 1 }
        END { exit !(n && p) }' "$LAB_TMP/announcements.log"
}

drops_of() {
    lab_ctl --json status | "$LAB_PY" -c "import json,sys; print(json.load(sys.stdin)['counters']['drops'].get('$1', 0))"
}

check_fail_closed() {
    grep -q "$LAB_GW_WAN_IF has no IPv4 address yet" "$LAB_DAEMON_LOG" ||
        lab_fail "gatewayd did not say the WAN has no address yet:"$'\n'"$(cat "$LAB_DAEMON_LOG")"
    if lab_py lan tcp-send --timeout 1 "$LAB_WAN_IP" "$TCP_PORT" early 2>/dev/null; then
        lab_fail "a LAN host's TCP reached the WAN host before the WAN had an address"
    fi
    (($(drops_of no_wan_address) > 0)) || lab_fail "the LAN host's SYN was not counted as no_wan_address"
    [[ ! -s $LAB_TMP/arrivals.wan.$TCP_PORT ]] || lab_fail "the WAN host heard: $(cat "$LAB_TMP/arrivals.wan.$TCP_PORT")"
    lab_ok "no WAN address: gatewayd is ready and forwards nothing (no_wan_address $(drops_of no_wan_address))"
    lab_poll 10 grep -q 'UPnP: running on' "$LAB_DAEMON_LOG" || lab_fail "UPnP did not start without a WAN address"
    lab_poll 10 grep -q 'NAT-PMP/PCP: running on' "$LAB_DAEMON_LOG" || lab_fail "NAT-PMP/PCP did not start"
    lab_ok "UPnP and NAT-PMP/PCP run meanwhile"
}

# check_follows ADDRESS SINCE: translation, UPnP, GENA, NAT-PMP and PCP all say ADDRESS.
check_follows() {
    local out
    lab_poll 5 lab_py lan tcp-send "$LAB_WAN_IP" "$TCP_PORT" "to-$1" 2>/dev/null || lab_fail "$1: no LAN TCP to the WAN host"
    lab_poll 2 grep -q "^tcp $1:[0-9]* to-$1" "$LAB_TMP/arrivals.wan.$TCP_PORT" ||
        lab_fail "$1: the WAN host saw: $(cat "$LAB_TMP/arrivals.wan.$TCP_PORT")"
    out=$(lab_upnpc lan -s 2>&1) || lab_fail "$1: upnpc -s failed:"$'\n'"$out"
    grep -q "ExternalIPAddress = $1" <<<"$out" || lab_fail "$1: upnpc -s said:"$'\n'"$out"
    out=$(lab_lan natpmpc -g "$LAB_GW_LAN_IP" 2>&1) || lab_fail "$1: natpmpc failed:"$'\n'"$out"
    grep -q "^Public IP address : $1\$" <<<"$out" || lab_fail "$1: natpmpc said:"$'\n'"$out"
    lab_poll 5 grep -q "ExternalIPAddress>$1<" "$LAB_TMP/arrivals.lan.$CALLBACK_PORT" ||
        lab_fail "$1: no GENA event with ExternalIPAddress $1 reached the subscriber"
    lab_poll 5 announced_after "$1" "$2" ||
        lab_fail "$1: no NAT-PMP announcement of it and PCP ANNOUNCE:"$'\n'"$(cat "$LAB_TMP/announcements.log")"
    lab_ok "$1: translation, upnpc -s, natpmpc, the GENA event, NAT-PMP's announcement and PCP ANNOUNCE all follow"
}

lab_up --nat none --config <(lab_port_control_config)
lab_heading "the WAN address from DHCP (dnsmasq on the WAN host, udhcpc on the gateway)"
write_udhcpc_script
lab_gw ip -4 addr flush dev "$LAB_GW_WAN_IF"
lab_gw ip route replace default via "$LAB_WAN_IP" dev "$LAB_GW_WAN_IF" onlink
lab_capture_start wan "$LAB_HOST_IF" ip
lab_upnp_listen wan "$TCP_PORT"
lab_upnp_listen wan "$UDP_PORT"
lab_upnp_listen lan "$CALLBACK_PORT"
announcements_start
lab_daemon_start
check_fail_closed

LAB_UPNP_URL="http://$LAB_GW_LAN_IP:$LAB_UPNP_HTTP_PORT/igd/rootDesc.xml"
event_url=$(lab_upnp_service_url lan WANIPConnection eventSubURL) || lab_fail "no eventSubURL for WANIPConnection"
status=$(lab_upnp_py lan http "$event_url" --method SUBSCRIBE --header "CALLBACK: <http://$LAB_LAN_IP:$CALLBACK_PORT/>" \
    --header "NT: upnp:event" --header "TIMEOUT: Second-300")
[[ $status == "HTTP/1.1 200"* ]] || lab_fail "SUBSCRIBE to $event_url: $status"

since=$(date +%s.%N)
dnsmasq_start 1 "$FIRST"
lab_bg gw udhcpc udhcpc -f -i "$LAB_GW_WAN_IF" -s "$LAB_TMP/udhcpc.sh" -p "$LAB_TMP/udhcpc.pid" -t 30 -T 1 -A 1
udhcpc_pid=$LAB_BG_PID
lab_poll 20 grep -q "WAN address changed: 0.0.0.0 -> $FIRST" "$LAB_DAEMON_LOG" ||
    lab_fail "gatewayd did not take the leased $FIRST; udhcpc said: $(cat "$LAB_TMP/udhcpc.log")"
check_follows "$FIRST" "$since"

# A LAN host's UDP stream through the renewal: a datagram every 50 ms.
lab_bg lan stream "$LAB_PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    s.sendto(b"stream", (sys.argv[1], int(sys.argv[2])))
    time.sleep(0.05)
' "$LAB_WAN_IP" "$UDP_PORT"
lab_poll 3 grep -q "^udp $FIRST:.* stream" "$LAB_TMP/arrivals.wan.$UDP_PORT" || lab_fail "the LAN stream does not reach the WAN host"
lab_stop_pid "$DNSMASQ_PID"
since=$(date +%s.%N)
dnsmasq_start 2 "$SECOND"
kill -USR1 "$udhcpc_pid" # renew: the new server NAKs the old address, a new lease follows
lab_poll 20 grep -q "WAN address changed: $FIRST -> $SECOND" "$LAB_DAEMON_LOG" ||
    lab_fail "gatewayd did not take the renewed $SECOND; udhcpc said: $(cat "$LAB_TMP/udhcpc.log")"
changed=$(date +%s.%N)
check_follows "$SECOND" "$since"
lab_poll 3 grep -q "^udp $SECOND:.* stream" "$LAB_TMP/arrivals.wan.$UDP_PORT" ||
    lab_fail "the LAN stream did not go on from $SECOND"
lab_ok "the LAN host's UDP stream goes on from $SECOND"
lab_stop_pid "$(cat "$LAB_TMP/udhcpc.pid")"
lab_capture_stop "ip.src == $SECOND && udp.dstport == $UDP_PORT" 5
late=$(lab_capture_read -Y "ip.src == $FIRST && frame.time_epoch > $changed" | wc -l)
((late == 0)) || lab_fail "after the change $late packets left with the old address $FIRST:"$'\n'"$(
    lab_capture_read -Y "ip.src == $FIRST && frame.time_epoch > $changed" | head -5)"
early=$(lab_capture_read -Y "ip.src == $FIRST && udp.dstport == $UDP_PORT" | wc -l)
((early > 0)) || lab_fail "the capture holds no stream packet from $FIRST: it proves nothing"
# A LAN host's address, untranslated (the gateway's own control plane on the WAN is another test's).
leaked=$(lab_capture_read -Y "ip.src == $LAB_LAN_NET && ip.src != $LAB_GW_LAN_IP" | wc -l)
((leaked == 0)) || lab_fail "$leaked packets with a LAN host's source reached the WAN side untranslated"
lab_ok "WAN capture: $early stream packets from $FIRST before the change, none after; no LAN address"
echo "PASS  the WAN address from DHCP: fail-closed before the lease, everything follows the renewal"
