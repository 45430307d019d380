#!/usr/bin/env bash
# Hairpinning (RFC 4787 REQ-9, RFC 5382 REQ-8): a LAN host (192.168.50.10) that dials the gateway's
# WAN address on a forwarded port reaches the forward's target (192.168.50.20), which sees the
# client as the WAN address and its external port; the client gets its answers from the address
# it dialled. Once over UDP (udp-ask takes only an answer from the address asked), once over TCP.
# Daemon-only (the config is gatewayd's): skips under LAB_NAT=kernel (fails under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly ECHO_PORT=7001 HTTP_PORT=8080
SERVER_IP=$(lab_lan_ip 2)
readonly SERVER_IP

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the firewall is gatewayd's; LAB_NAT=${LAB_NAT:-}"

firewall_config() {
    cat <<EOF
lan: {interface: $LAB_GW_LAN_IF, networks: [$LAB_LAN_NET]}
wan: {interface: $LAB_GW_WAN_IF, address: auto}
firewall:
  filtering: address-and-port-dependent
  policy: {inbound: drop, outbound: accept, input: drop}
  log_lines_per_second: 50
  forwards:
    - {name: echo, protocol: udp, external_port: $ECHO_PORT, internal: "$SERVER_IP:$ECHO_PORT"}
    - {name: web, protocol: tcp, external_port: $HTTP_PORT, internal: "$SERVER_IP:$HTTP_PORT"}
EOF
}

# check_seen_as_wan PEER WHAT: the server saw the client as the gateway's WAN address.
check_seen_as_wan() {
    [[ ${1%:*} == "$LAB_GW_WAN_IP" ]] ||
        lab_fail "$2: the server $SERVER_IP saw the LAN client as '$1'; expected $LAB_GW_WAN_IP:<port> (RFC 4787 REQ-9)"
}

check_udp_hairpin() {
    local answer peer
    answer=$(lab_py lan udp-ask --timeout 1 "$LAB_GW_WAN_IP:$ECHO_PORT") ||
        lab_fail "UDP from $LAB_LAN_IP to $LAB_GW_WAN_IP:$ECHO_PORT got no answer from that address: $answer"
    peer=$(awk '{ print $2 }' <<<"$answer")
    check_seen_as_wan "$peer" "UDP"
    lab_ok "UDP $LAB_LAN_IP → $LAB_GW_WAN_IP:$ECHO_PORT answered from there by $SERVER_IP, which saw $peer"
}

check_tcp_hairpin() {
    local peer
    peer=$(lab_lan curl -sS --noproxy '*' -m 5 "http://$LAB_GW_WAN_IP:$HTTP_PORT/") ||
        lab_fail "HTTP from $LAB_LAN_IP to $LAB_GW_WAN_IP:$HTTP_PORT failed"
    check_seen_as_wan "$peer" "TCP"
    lab_ok "TCP $LAB_LAN_IP → $LAB_GW_WAN_IP:$HTTP_PORT answered by $SERVER_IP, which saw $peer"
}

lab_up --nat gatewayd --lan-hosts 2 --config <(firewall_config)
lab_heading "hairpinning: a LAN host reaches a forward through the WAN address"
lab_bg lan2 echo "$LAB_PY" "$LAB_NET_PY" udp-echo --port "$ECHO_PORT"
lab_bg lan2 http "$LAB_PY" "$LAB_NET_PY" http-peer --port "$HTTP_PORT"
lab_wait_listen lan2 udp "$ECHO_PORT"
lab_wait_listen lan2 tcp "$HTTP_PORT"

check_udp_hairpin
check_tcp_hairpin
echo "PASS  a LAN host reaches a forward through the WAN address, seen as the WAN address"
