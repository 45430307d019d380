#!/usr/bin/env bash
# A static forward (TCP 3389 → 192.168.50.20:3389) behind two inbound rules: rdp-from-office accepts
# 198.51.100.0/24, rdp-others drops every other source. WAN host 2 (198.51.100.2) connects and the
# server sees its real address; WAN host 1 (203.0.113.2) is refused, its SYN never reaches the
# server, and gatewayd's log names rdp-others for that probe (and rdp-from-office for the accepted one).
# Daemon-only (the config is gatewayd's): skips under LAB_NAT=kernel (fails under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly RDP_PORT=3389 OFFICE_SOURCE_PORT=43002 OTHER_SOURCE_PORT=43001
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
  rules:
    - {name: rdp-from-office, direction: inbound, protocol: tcp, sources: [$LAB_WAN2_NET], destination_ports: [$RDP_PORT], action: accept, log: true}
    - {name: rdp-others, direction: inbound, protocol: tcp, destination_ports: [$RDP_PORT], action: drop, log: true}
  forwards:
    - {name: remote-assistance, protocol: tcp, external_port: $RDP_PORT, internal: "$SERVER_IP:$RDP_PORT"}
EOF
}

check_office_gets_through() {
    local source="$LAB_WAN2_IP:$OFFICE_SOURCE_PORT"
    lab_py wan2 tcp-send --timeout 2 --source-port "$OFFICE_SOURCE_PORT" "$LAB_GW_WAN_IP" "$RDP_PORT" from-office ||
        lab_fail "WAN host 2 ($LAB_WAN2_NET, rule rdp-from-office) could not connect to $LAB_GW_WAN_IP:$RDP_PORT"
    lab_wait_log "$LAB_TMP/arrivals" "tcp $source from-office" ||
        lab_fail "the server $SERVER_IP:$RDP_PORT did not log the connection from $source: $(cat "$LAB_TMP/arrivals")"
    lab_ok "WAN host 2 → $LAB_GW_WAN_IP:$RDP_PORT reached $SERVER_IP:$RDP_PORT, which saw $source"
    # Also the control for the sniffer, which must show that WAN host 1's SYN never arrives.
    lab_wait_log "$LAB_TMP/sniff-server.sniff" "tcp $source > $SERVER_IP:$RDP_PORT S" ||
        lab_fail "control: the sniffer on the server did not see the office's SYN: $(lab_sniffed sniff-server)"
}

check_others_are_refused() {
    local source="$LAB_WAN_IP:$OTHER_SOURCE_PORT" seen
    if lab_py wan tcp-send --timeout 1 --source-port "$OTHER_SOURCE_PORT" "$LAB_GW_WAN_IP" "$RDP_PORT" from-other 2>/dev/null; then
        lab_fail "WAN host 1 ($LAB_WAN_IP, rule rdp-others) connected to $LAB_GW_WAN_IP:$RDP_PORT"
    fi
    lab_expect_decision drop rdp-others tcp "$source" "$LAB_GW_WAN_IP:$RDP_PORT" "WAN host 1's SYN"
    [[ $LAB_DECISION == *" reason=denied_by_rule dir=inbound "* ]] ||
        lab_fail "WAN host 1's SYN: expected reason=denied_by_rule dir=inbound; gatewayd logged: $LAB_DECISION"
    lab_ok "logged: $LAB_DECISION"
    # The drop is logged, so the SYN will never reach the server.
    seen=$(lab_sniffed sniff-server | grep -F " $LAB_WAN_IP:" || true)
    [[ -z $seen ]] || lab_fail "WAN host 1's packets reached the server $SERVER_IP:"$'\n'"$seen"
    lab_ok "WAN host 1 → $LAB_GW_WAN_IP:$RDP_PORT refused; the server saw none of its packets"
}

# rdp-from-office has log: true. The line shows the SYN as it arrived (daemon/decision_log.hpp),
# so its destination is the WAN address, as in the drop lines.
check_accept_logged() {
    lab_expect_decision accept rdp-from-office tcp "$LAB_WAN2_IP:$OFFICE_SOURCE_PORT" "$LAB_GW_WAN_IP:$RDP_PORT" \
        "the office's connection (rule with log: true)"
    lab_ok "logged: $LAB_DECISION"
}

lab_up --nat gatewayd --wan2 --lan-hosts 2 --config <(firewall_config)
lab_heading "forward TCP $RDP_PORT → $SERVER_IP: the office gets in, others are dropped by rule"
lab_bg lan2 server "$LAB_PY" "$LAB_NET_PY" listen-log --port "$RDP_PORT" --log "$LAB_TMP/arrivals"
lab_wait_listen lan2 tcp "$RDP_PORT"
lab_sniff_start lan2 sniff-server "$RDP_PORT"

check_office_gets_through
check_others_are_refused
check_accept_logged
echo "PASS  the forward admits the office and refuses others, each decision logged by rule name"
