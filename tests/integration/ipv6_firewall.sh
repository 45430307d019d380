#!/usr/bin/env bash
# ctest: sanitize
# IPv6 through gatewayd (issue 8): no NAT, stateful, default-deny inbound. From the LAN host, TCP,
# UDP and ping6 reach the WAN host and their answers come back with the LAN host's own address;
# a TCP connect from the WAN host to the LAN host gets nowhere and gatewayd counts the drop, and
# one to a port a reject rule (with an IPv6 CIDR) covers is refused with an RST; an
# ICMPv6 Packet Too Big about a flow the LAN host started reaches it, one about no flow does not;
# a pinhole opened with gatewayctl lets the WAN host connect, and closing it shuts the way again.
# After a SIGKILL the ip6tables rules stay and IPv6 is dropped (fail-closed); the next start
# replaces the stale chains (one set, not two) and IPv6 flows again; a clean stop removes them
# and turns IPv6 forwarding off.
# Daemon-only (the IPv6 firewall is gatewayd's): skips under LAB_NAT=kernel (fails under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly TCP_PORT=8080 UDP_PORT=7001 LAN_TCP_PORT=2222 LAN_UDP_PORT=30500 REJECT_PORT=23 PY=/usr/bin/python3
readonly NET6=$LAB_DIR/labnet6.py

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the IPv6 firewall is gatewayd's; LAB_NAT=${LAB_NAT:-}"

ipv6_config() {
    cat <<EOF
lan: {interface: $LAB_GW_LAN_IF, ipv6_networks: [$LAB_LAN6_NET]}
wan: {interface: $LAB_GW_WAN_IF, address: auto}
firewall:
  policy: {inbound: drop, outbound: accept, input: drop}
  log_lines_per_second: 100
  rules:
    - {name: refuse-telnet-v6, direction: inbound, protocol: tcp, destinations: [$LAB_LAN6_NET],
       destination_ports: [$REJECT_PORT], action: reject}
EOF
}

net6() {
    local role=$1
    shift
    lab_in "$role" "$PY" "$NET6" "$@"
}

# status_value KEY.KEY: one value of `gatewayctl --json status`.
status_value() { lab_ctl --json status | lab_json "$1"; }

# drops_of REASON: the drop counter of REASON (0 when it has not counted yet).
drops_of() {
    lab_ctl --json status | "$LAB_PY" -c "import json,sys; print(json.load(sys.stdin)['counters']['drops'].get('$1', 0))"
}

check_lan_reaches_wan() {
    local answer
    answer=$(net6 lan tcp-ask "$LAB_WAN6_IP" "$TCP_PORT") || lab_fail "TCP from the LAN host to the WAN host: $answer"
    lab_ok "$answer"
    answer=$(net6 lan udp-ask "$LAB_WAN6_IP" "$UDP_PORT") || lab_fail "UDP from the LAN host to the WAN host: $answer"
    lab_ok "$answer"
    lab_lan ping -6 -c 2 -W 1 -q "$LAB_WAN6_IP" >/dev/null || lab_fail "ping6 from the LAN host got no echo reply"
    lab_ok "ping6 $LAB_LAN6_IP → $LAB_WAN6_IP answered"
    grep -qF "tcp [$LAB_LAN6_IP]:" "$LAB_TMP/tcp-wan.log" ||
        lab_fail "the WAN host saw the TCP connection from another address than the LAN host's (no NAT for IPv6)"
    lab_ok "the WAN host saw the LAN host's own address (no NAT)"
    local flows
    flows=$(status_value ipv6.flows)
    ((flows >= 3)) || lab_fail "gatewayctl status shows $flows IPv6 flows, not 3"
    lab_ok "gatewayctl status: $flows IPv6 flows"
}

check_wan_cannot_connect() {
    local before answer
    before=$(drops_of denied_by_policy)
    if answer=$(net6 wan tcp-ask "$LAB_LAN6_IP" "$LAN_TCP_PORT" --timeout 1); then
        lab_fail "the WAN host connected to the LAN host unasked: $answer"
    fi
    lab_poll 2 grep -qE "src=\[$LAB_WAN6_IP\]:[0-9]+ dst=\[$LAB_LAN6_IP\]:$LAN_TCP_PORT" "$LAB_DAEMON_LOG" ||
        lab_fail "gatewayd logged no drop of the WAN host's SYN"
    (($(drops_of denied_by_policy) > before)) || lab_fail "the drop of the WAN host's SYN was not counted"
    lab_ok "TCP from the WAN host to [$LAB_LAN6_IP]:$LAN_TCP_PORT: $answer; counted as denied_by_policy"
}

check_reject_rule() {
    local answer
    if answer=$(net6 wan tcp-ask "$LAB_LAN6_IP" "$REJECT_PORT" --timeout 2); then
        lab_fail "the WAN host connected to a port a reject rule covers: $answer"
    fi
    [[ $answer == *"refused"* ]] || lab_fail "a reject rule should answer with an RST, the connect said: $answer"
    # The RST is gatewayd's, not the LAN host's: the SYN never crossed.
    lab_poll 2 grep -qE "reject rule=refuse-telnet-v6 .* dst=\[$LAB_LAN6_IP\]:$REJECT_PORT" "$LAB_DAEMON_LOG" ||
        lab_fail "gatewayd did not log the reject of the SYN to port $REJECT_PORT"
    lab_ok "rule refuse-telnet-v6 (IPv6 CIDR) answered the WAN host's SYN with an RST: $answer"
}

check_packet_too_big() {
    local sniffer
    # A UDP flow the LAN host started; a router on the path says its datagrams are too big.
    net6 lan udp-ask "$LAB_WAN6_IP" "$UDP_PORT" --source-port "$LAN_UDP_PORT" >/dev/null ||
        lab_fail "UDP from port $LAN_UDP_PORT got no answer"
    lab_bg lan sniff-ptb "$PY" "$NET6" sniff-icmp6 "$LAB_HOST_IF" 2 --timeout 4
    sniffer=$LAB_BG_PID
    lab_wait_log "$LAB_TMP/sniff-ptb.log" listening || lab_fail "the LAN sniffer did not start"
    net6 wan packet-too-big "$LAB_LAN6_IP" 1280 "$LAB_LAN6_IP" "$LAN_UDP_PORT" "$LAB_WAN6_IP" "$UDP_PORT" >/dev/null
    wait "$sniffer" || lab_fail "the Packet Too Big for the LAN host's flow did not reach it: $(cat "$LAB_TMP/sniff-ptb.log")"
    lab_ok "Packet Too Big for the LAN host's UDP flow reached it: $(tail -1 "$LAB_TMP/sniff-ptb.log")"
    # One about a flow that does not exist is dropped, and counted.
    lab_bg lan sniff-ptb2 "$PY" "$NET6" sniff-icmp6 "$LAB_HOST_IF" 2 --timeout 2
    sniffer=$LAB_BG_PID
    lab_wait_log "$LAB_TMP/sniff-ptb2.log" listening || lab_fail "the LAN sniffer did not start"
    net6 wan packet-too-big "$LAB_LAN6_IP" 1280 "$LAB_LAN6_IP" 30999 "$LAB_WAN6_IP" "$UDP_PORT" >/dev/null
    if wait "$sniffer"; then lab_fail "a Packet Too Big quoting no flow reached the LAN host"; fi
    (($(drops_of icmpv6_error_without_flow) >= 1)) || lab_fail "the forged Packet Too Big was not counted"
    lab_ok "a Packet Too Big quoting no flow was dropped (icmpv6_error_without_flow)"
}

check_pinhole() {
    local answer packets id
    # The pinhole service numbers it, as it numbers UPnP's and PCP's.
    id=$(lab_ctl --json pinhole add tcp "$LAB_LAN6_IP" "$LAN_TCP_PORT" --for 1h |
        "$LAB_PY" -c "import json,sys; print(json.load(sys.stdin)['id'])") || lab_fail "pinhole add failed: $id"
    answer=$(net6 wan tcp-ask "$LAB_LAN6_IP" "$LAN_TCP_PORT") || lab_fail "no connection through the pinhole: $answer"
    lab_ok "pinhole $id open: $answer"
    packets=$(lab_ctl --json pinholes | "$LAB_PY" -c "import json,sys; print(json.load(sys.stdin)['pinholes'][0]['packets'])")
    ((packets >= 3)) || lab_fail "pinhole $id counted $packets packets, not the connection's"
    lab_ok "pinhole $id counted $packets packets"
    lab_ctl pinhole delete "$id" >/dev/null
    if answer=$(net6 wan tcp-ask "$LAB_LAN6_IP" "$LAN_TCP_PORT" --timeout 1); then
        lab_fail "the WAN host still connected after the pinhole closed: $answer"
    fi
    lab_ok "pinhole 1 closed: $answer"
}

# v6_jumps: how many FORWARD jumps to our IPv6 chains the gateway's ip6tables holds (UPnP adds an INPUT one).
v6_jumps() { lab_gw ip6tables-save -t mangle | grep -c -- '-A FORWARD .*-j GATEWAYD_V6_' || true; }

check_crash_restart_stop() {
    local answer
    lab_daemon_kill9
    if answer=$(net6 lan tcp-ask "$LAB_WAN6_IP" "$TCP_PORT" --timeout 1); then
        lab_fail "IPv6 crossed the gateway with gatewayd dead: $answer"
    fi
    (($(v6_jumps) == 2)) || lab_fail "after SIGKILL the IPv6 rules are gone ($(v6_jumps) jumps): not fail-closed"
    lab_ok "gatewayd killed: its ip6tables rules stay and IPv6 is dropped ($answer)"
    lab_daemon_start
    (($(v6_jumps) == 2)) || lab_fail "after the restart ip6tables holds $(v6_jumps) jumps to GATEWAYD_V6_*, not 2"
    answer=$(net6 lan tcp-ask "$LAB_WAN6_IP" "$TCP_PORT") || lab_fail "TCP over IPv6 after the restart: $answer"
    lab_ok "restarted: the stale IPv6 chains were replaced (2 jumps) and TCP flows again"
    lab_daemon_stop
    (($(v6_jumps) == 0)) || lab_fail "a clean stop left $(v6_jumps) jumps to GATEWAYD_V6_*"
    [[ $(lab_gw sysctl -n net.ipv6.conf.all.forwarding) == 0 ]] || lab_fail "a clean stop left IPv6 forwarding on"
    lab_ok "stopped: the IPv6 chains are removed and IPv6 forwarding is off"
}

lab_up --nat gatewayd --ipv6 --config <(ipv6_config)
lab_heading "IPv6: routed without NAT, stateful, default-deny inbound, RFC 4890 ICMPv6, pinholes"
lab_bg wan tcp-wan "$PY" "$NET6" tcp-echo --port "$TCP_PORT"
lab_bg wan udp-wan "$PY" "$NET6" udp-echo --port "$UDP_PORT"
lab_bg lan tcp-lan "$PY" "$NET6" tcp-echo --port "$LAN_TCP_PORT"
lab_wait_listen wan tcp "$TCP_PORT"
lab_wait_listen wan udp "$UDP_PORT"
lab_wait_listen lan tcp "$LAN_TCP_PORT"

check_lan_reaches_wan
check_wan_cannot_connect
check_reject_rule
check_packet_too_big
check_pinhole
check_crash_restart_stop
echo "PASS  IPv6 is forwarded statefully: the LAN reaches the WAN, the WAN only what a pinhole opens"
