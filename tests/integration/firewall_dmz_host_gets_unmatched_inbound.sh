#!/usr/bin/env bash
# The DMZ host (192.168.50.30) gets the inbound traffic that no mapping or forward claims: a UDP
# exchange from WAN host 1 and an HTTP request from WAN host 2, both to ports with no forward, are
# answered by the DMZ host, which sees the real WAN addresses. A forwarded port (TCP 3389 →
# 192.168.50.20) still goes to its forward, not to the DMZ host; and the other LAN host (.10) sees
# none of it.
# Daemon-only (the config is gatewayd's): skips under LAB_NAT=kernel (fails under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly DMZ_UDP_PORT=6001 DMZ_HTTP_PORT=6080 RDP_PORT=3389 RDP_SOURCE_PORT=44003
SERVER_IP=$(lab_lan_ip 2) DMZ_IP=$(lab_lan_ip 3)
readonly SERVER_IP DMZ_IP

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the firewall is gatewayd's; LAB_NAT=${LAB_NAT:-}"

firewall_config() {
    cat <<EOF
lan: {interface: $LAB_GW_LAN_IF, networks: [$LAB_LAN_NET]}
wan: {interface: $LAB_GW_WAN_IF, address: auto}
firewall:
  filtering: address-and-port-dependent
  policy: {inbound: drop, outbound: accept, input: drop}
  log_lines_per_second: 50
  dmz: $DMZ_IP
  forwards:
    - {name: remote-assistance, protocol: tcp, external_port: $RDP_PORT, internal: "$SERVER_IP:$RDP_PORT"}
EOF
}

start_servers() {
    lab_bg lan3 dmz-echo "$LAB_PY" "$LAB_NET_PY" udp-echo --port "$DMZ_UDP_PORT"
    lab_bg lan3 dmz-http "$LAB_PY" "$LAB_NET_PY" http-peer --port "$DMZ_HTTP_PORT"
    lab_bg lan3 dmz-rdp "$LAB_PY" "$LAB_NET_PY" listen-log --port "$RDP_PORT" --log "$LAB_TMP/dmz-rdp-arrivals"
    lab_bg lan2 server-rdp "$LAB_PY" "$LAB_NET_PY" listen-log --port "$RDP_PORT" --log "$LAB_TMP/server-rdp-arrivals"
    lab_wait_listen lan3 udp "$DMZ_UDP_PORT"
    lab_wait_listen lan3 tcp "$DMZ_HTTP_PORT"
    lab_wait_listen lan3 tcp "$RDP_PORT"
    lab_wait_listen lan2 tcp "$RDP_PORT"
    lab_sniff_start lan sniff-lan1 "$DMZ_UDP_PORT" "$DMZ_HTTP_PORT" "$RDP_PORT"
    # A sniffer that sees nothing proves nothing unless it is shown to see.
    lab_py gw udp-send "$LAB_LAN_IP" "$DMZ_UDP_PORT" control
    lab_wait_log "$LAB_TMP/sniff-lan1.sniff" "udp $LAB_GW_LAN_IP:" ||
        lab_fail "control: the sniffer on LAN host 1 did not see the gateway's datagram"
}

# udp-ask takes only an answer that comes from the address it asked: the DMZ host's reply must be
# translated back to the gateway's WAN address.
check_udp_reaches_dmz() {
    local answer
    answer=$(lab_py wan udp-ask --timeout 1 "$LAB_GW_WAN_IP:$DMZ_UDP_PORT") ||
        lab_fail "UDP from WAN host 1 to $LAB_GW_WAN_IP:$DMZ_UDP_PORT (no forward) got no answer from the DMZ host: $answer"
    [[ $(awk '{ print $2 }' <<<"$answer") == "$LAB_WAN_IP:"* ]] ||
        lab_fail "the DMZ host's UDP echo saw '$answer'; expected WAN host 1's address $LAB_WAN_IP"
    lab_ok "UDP WAN host 1 → $LAB_GW_WAN_IP:$DMZ_UDP_PORT answered by the DMZ host $DMZ_IP, which saw $(awk '{ print $2 }' <<<"$answer")"
}

check_tcp_reaches_dmz() {
    local peer
    peer=$(lab_wan2 curl -sS --noproxy '*' -m 5 "http://$LAB_GW_WAN_IP:$DMZ_HTTP_PORT/") ||
        lab_fail "HTTP from WAN host 2 to $LAB_GW_WAN_IP:$DMZ_HTTP_PORT (no forward) got no answer from the DMZ host"
    [[ ${peer%:*} == "$LAB_WAN2_IP" ]] ||
        lab_fail "the DMZ host's HTTP server saw '$peer'; expected WAN host 2's address $LAB_WAN2_IP"
    lab_ok "TCP WAN host 2 → $LAB_GW_WAN_IP:$DMZ_HTTP_PORT answered by the DMZ host $DMZ_IP, which saw $peer"
}

check_forward_beats_dmz() {
    local source="$LAB_WAN_IP:$RDP_SOURCE_PORT"
    lab_py wan tcp-send --timeout 2 --source-port "$RDP_SOURCE_PORT" "$LAB_GW_WAN_IP" "$RDP_PORT" to-forward ||
        lab_fail "WAN host 1 could not connect to the forwarded port $LAB_GW_WAN_IP:$RDP_PORT"
    lab_wait_log "$LAB_TMP/server-rdp-arrivals" "tcp $source to-forward" ||
        lab_fail "the forward's target $SERVER_IP:$RDP_PORT did not get the connection; the DMZ host logged: $(cat "$LAB_TMP/dmz-rdp-arrivals" 2>/dev/null)"
    if grep -qs to-forward "$LAB_TMP/dmz-rdp-arrivals"; then
        lab_fail "the DMZ host also got the forwarded connection: $(cat "$LAB_TMP/dmz-rdp-arrivals")"
    fi
    lab_ok "TCP to the forwarded port $RDP_PORT went to $SERVER_IP, not to the DMZ host"
}

check_other_lan_host_saw_nothing() {
    local seen
    seen=$(lab_sniffed sniff-lan1 | grep -v "^udp $LAB_GW_LAN_IP:" || true)
    [[ -z $seen ]] || lab_fail "LAN host 1 ($LAB_LAN_IP) saw traffic meant for the DMZ host or the forward:"$'\n'"$seen"
    lab_ok "LAN host 1 ($LAB_LAN_IP) saw none of it"
}

lab_up --nat gatewayd --wan2 --lan-hosts 3 --config <(firewall_config)
lab_heading "the DMZ host $DMZ_IP gets unmatched inbound traffic; forwards keep theirs"
start_servers
check_udp_reaches_dmz
check_tcp_reaches_dmz
check_forward_beats_dmz
check_other_lan_host_saw_nothing
echo "PASS  the DMZ host gets inbound traffic that nothing else claims"
