#!/usr/bin/env bash
# A forward with `enabled: false` stays in the file but is closed: TCP to its external port (5000)
# is refused, its target (192.168.50.20:5000) sees no packet, and gatewayd logs the drop by the
# inbound policy. An enabled forward to the same host (3389) works, so the closure is the flag's
# doing. No DMZ here: with one, a disabled forward's port would go to the DMZ host like any other
# unclaimed port.
# Daemon-only (the config is gatewayd's): skips under LAB_NAT=kernel (fails under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly OPEN_PORT=3389 CLOSED_PORT=5000 OPEN_SOURCE_PORT=45001 CLOSED_SOURCE_PORT=45002
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
    - {name: remote-assistance, protocol: tcp, external_port: $OPEN_PORT, internal: "$SERVER_IP:$OPEN_PORT"}
    - {name: closed-one, protocol: tcp, external_port: $CLOSED_PORT, internal: "$SERVER_IP:$CLOSED_PORT", enabled: false}
EOF
}

check_enabled_forward_open() {
    local source="$LAB_WAN_IP:$OPEN_SOURCE_PORT"
    lab_py wan tcp-send --timeout 2 --source-port "$OPEN_SOURCE_PORT" "$LAB_GW_WAN_IP" "$OPEN_PORT" to-open ||
        lab_fail "control: WAN host 1 could not connect to the enabled forward $LAB_GW_WAN_IP:$OPEN_PORT"
    lab_wait_log "$LAB_TMP/arrivals-$OPEN_PORT" "tcp $source to-open" ||
        lab_fail "control: $SERVER_IP:$OPEN_PORT did not log the connection from $source"
    lab_wait_log "$LAB_TMP/sniff-server.sniff" "tcp $source > $SERVER_IP:$OPEN_PORT S" ||
        lab_fail "control: the sniffer on $SERVER_IP did not see the SYN to the enabled forward"
    lab_ok "control: the enabled forward $OPEN_PORT → $SERVER_IP:$OPEN_PORT works (and the server's sniffer sees it)"
}

check_disabled_forward_closed() {
    local source="$LAB_WAN_IP:$CLOSED_SOURCE_PORT" seen
    if lab_py wan tcp-send --timeout 1 --source-port "$CLOSED_SOURCE_PORT" "$LAB_GW_WAN_IP" "$CLOSED_PORT" to-closed 2>/dev/null; then
        lab_fail "WAN host 1 connected to the disabled forward $LAB_GW_WAN_IP:$CLOSED_PORT"
    fi
    lab_expect_decision drop policy tcp "$source" "$LAB_GW_WAN_IP:$CLOSED_PORT" "TCP to the disabled forward"
    lab_ok "logged: $LAB_DECISION"
    # The drop is logged, so the SYN will never reach the server.
    seen=$(lab_sniffed sniff-server | grep -F ":$CLOSED_PORT " || true)
    [[ -z $seen ]] || lab_fail "packets for the disabled forward reached $SERVER_IP:"$'\n'"$seen"
    if grep -qs to-closed "$LAB_TMP/arrivals-$CLOSED_PORT"; then
        lab_fail "the disabled forward's target logged a connection: $(cat "$LAB_TMP/arrivals-$CLOSED_PORT")"
    fi
    lab_ok "TCP to the disabled forward $CLOSED_PORT is refused; $SERVER_IP saw none of it"
}

lab_up --nat gatewayd --lan-hosts 2 --config <(firewall_config)
lab_heading "a forward with enabled: false is closed"
for port in "$OPEN_PORT" "$CLOSED_PORT"; do
    lab_bg lan2 "server-$port" "$LAB_PY" "$LAB_NET_PY" listen-log --port "$port" --log "$LAB_TMP/arrivals-$port"
    lab_wait_listen lan2 tcp "$port"
done
lab_sniff_start lan2 sniff-server "$OPEN_PORT" "$CLOSED_PORT"

check_enabled_forward_open
check_disabled_forward_closed
echo "PASS  a disabled forward is closed"
