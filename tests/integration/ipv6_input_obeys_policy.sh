#!/usr/bin/env bash
# ctest: sanitize
# IPv6 to the gateway itself obeys firewall.policy.input (issue 13), first with no lan.ipv6_networks
# configured (IPv6 is not forwarded by gatewayd), then with it: a listener on [::] in the gateway's namespace is
# not reachable from the WAN host, neither on the gateway's WAN global address nor on its WAN
# link-local one, and the drops are counted (denied_by_policy) as IPv4's are; over IPv4 it stays
# closed too. An input rule with IPv6 networks opens its port (global and link-local). The
# gateway's own IPv6 connections to the WAN host (TCP, UDP, ping) get their answers back, which
# needs neighbour discovery and the replies to its own flows to pass.
# Fails on a gatewayd that queues no IPv6 INPUT (the WAN host then connects).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly CLOSED_PORT=9000 OPEN_PORT=9001 WAN_TCP_PORT=8080 WAN_UDP_PORT=7001 PY=/usr/bin/python3
readonly NET6=$LAB_DIR/labnet6.py

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the input policy under test is gatewayd's; LAB_NAT=${LAB_NAT:-}"

# input_config [forwarding]: with an argument, lan.ipv6_networks is set (gatewayd forwards IPv6 too).
input_config() {
    cat <<EOF
lan: {interface: $LAB_GW_LAN_IF$([[ -z ${1:-} ]] || echo ", ipv6_networks: [$LAB_LAN6_NET]")}
wan: {interface: $LAB_GW_WAN_IF, address: auto}
firewall:
  policy: {inbound: drop, outbound: accept, input: drop}
  log_lines_per_second: 100
  rules:
    - {name: open-v6-$OPEN_PORT, direction: input, protocol: tcp, destinations: ["::/0"],
       destination_ports: [$OPEN_PORT], action: accept}
EOF
}

net6() {
    local role=$1
    shift
    lab_in "$role" "$PY" "$NET6" "$@"
}

drops_of() {
    lab_ctl --json status | "$LAB_PY" -c "import json,sys; print(json.load(sys.stdin)['counters']['drops'].get('$1', 0))"
}

# expect_closed ADDRESS PORT WHAT: the WAN host cannot connect, and the drop is counted.
expect_closed() {
    local before answer
    before=$(drops_of denied_by_policy)
    if answer=$(net6 wan tcp-ask "$1" "$2" --timeout 1); then
        lab_fail "$3: the WAN host connected to the gateway's listener: $answer"
    fi
    lab_poll 2 _drops_above denied_by_policy "$before" || lab_fail "$3: the drop was not counted as denied_by_policy"
    lab_ok "$3 closed ($answer); counted as denied_by_policy"
}

_drops_above() { (($(drops_of "$1") > $2)); }

expect_open() {
    local answer
    answer=$(net6 wan tcp-ask "$1" "$2") || lab_fail "$3: the input rule should let the WAN host in: $answer"
    lab_ok "$3 open by rule open-v6-$OPEN_PORT: $answer"
}

lab_up --nat gatewayd --ipv6 --config <(input_config)
lab_heading "IPv6 to the gateway follows firewall.policy.input (no lan.ipv6_networks)"
gw_link_local=$(lab_gw ip -6 -o addr show dev "$LAB_GW_WAN_IF" scope link | awk '{print $4}' | cut -d/ -f1)
[[ -n $gw_link_local ]] || lab_fail "the gateway's WAN interface has no IPv6 link-local address"
lab_bg gw listen-closed "$PY" "$NET6" tcp-echo --port "$CLOSED_PORT"
lab_bg gw listen-open "$PY" "$NET6" tcp-echo --port "$OPEN_PORT"
lab_bg wan tcp-wan "$PY" "$NET6" tcp-echo --port "$WAN_TCP_PORT"
lab_bg wan udp-wan "$PY" "$NET6" udp-echo --port "$WAN_UDP_PORT"
for port in "$CLOSED_PORT" "$OPEN_PORT"; do lab_wait_listen gw tcp "$port"; done
lab_wait_listen wan tcp "$WAN_TCP_PORT"
lab_wait_listen wan udp "$WAN_UDP_PORT"

expect_closed "$LAB_GW_WAN6_IP" "$CLOSED_PORT" "[$LAB_GW_WAN6_IP]:$CLOSED_PORT (WAN global)"
expect_closed "$gw_link_local%$LAB_HOST_IF" "$CLOSED_PORT" "[$gw_link_local]:$CLOSED_PORT (WAN link-local)"
expect_closed "$LAB_GW_WAN_IP" "$CLOSED_PORT" "$LAB_GW_WAN_IP:$CLOSED_PORT (IPv4, the same dual-stack listener)"
lab_poll 2 grep -qE "input6 .*dst=\[$LAB_GW_WAN6_IP\]:$CLOSED_PORT" "$LAB_DAEMON_LOG" ||
    lab_fail "the decision log has no input6 drop for [$LAB_GW_WAN6_IP]:$CLOSED_PORT"
lab_ok "the decision log names the IPv6 input drop"

expect_open "$LAB_GW_WAN6_IP" "$OPEN_PORT" "[$LAB_GW_WAN6_IP]:$OPEN_PORT (WAN global)"
expect_open "$gw_link_local%$LAB_HOST_IF" "$OPEN_PORT" "[$gw_link_local]:$OPEN_PORT (WAN link-local)"

answer=$(net6 gw tcp-ask "$LAB_WAN6_IP" "$WAN_TCP_PORT") || lab_fail "the gateway's own TCP to the WAN host: $answer"
lab_ok "the gateway's own TCP: $answer"
answer=$(net6 gw udp-ask "$LAB_WAN6_IP" "$WAN_UDP_PORT") || lab_fail "the gateway's own UDP to the WAN host: $answer"
lab_ok "the gateway's own UDP: $answer"
lab_gw ping -6 -c 2 -W 1 -q "$LAB_WAN6_IP" >/dev/null || lab_fail "the gateway's own ping6 got no echo reply"
lab_ok "the gateway's own ping6 to $LAB_WAN6_IP answered"

lab_heading "the same with lan.ipv6_networks set (IPv6 forwarded by gatewayd)"
lab_daemon_stop
lab_daemon_start --config <(input_config forwarding)
expect_closed "$LAB_GW_WAN6_IP" "$CLOSED_PORT" "[$LAB_GW_WAN6_IP]:$CLOSED_PORT (WAN global)"
expect_closed "$gw_link_local%$LAB_HOST_IF" "$CLOSED_PORT" "[$gw_link_local]:$CLOSED_PORT (WAN link-local)"
expect_open "$LAB_GW_WAN6_IP" "$OPEN_PORT" "[$LAB_GW_WAN6_IP]:$OPEN_PORT (WAN global)"
answer=$(net6 gw tcp-ask "$LAB_WAN6_IP" "$WAN_TCP_PORT") || lab_fail "the gateway's own TCP to the WAN host: $answer"
lab_ok "the gateway's own TCP: $answer"
echo "PASS  IPv6 to the gateway obeys the input policy and rules; its own IPv6 traffic works"
