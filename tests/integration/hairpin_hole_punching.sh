#!/usr/bin/env bash
# ctest: sanitize
# Hole punching between two LAN hosts through the gateway (issue 18.1; RFC 4787 REQ-8/REQ-9,
# RFC 5508 REQ-7), in each filtering mode in turn (firewall.filtering, applied by a reload): lan1
# and lan2 each learn their UDP socket's external endpoint from a WAN echo server, as a
# peer-to-peer application does from STUN, then send to each other's external endpoint from that
# socket, six times each, a fifth of a second apart, lan1 first. Both must get the other's
# datagrams from the other's external endpoint. Under address-dependent and
# address-and-port-dependent filtering lan1's first punch is dropped by lan2's filter (the decision
# log says filtered_by_mapping), and lan2's answer passes because that dropped punch counted as
# lan1's outbound traffic, as between two NATs.
# Then a TCP simultaneous open through the hairpin (both connect() at once, lan1's first SYN
# filtered), and an ICMP port unreachable that lan2 sends (crafted with scapy) about lan1's
# datagram: it must close lan1's connected socket (ECONNREFUSED: translated back, quoted ports
# included, with a checksum lan1's stack accepts), arriving from the WAN address.
# Daemon-only (the filtering and its config are gatewayd's): skips under LAB_NAT=kernel (fails
# under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly ECHO_PORT=7001 TCP_ECHO_PORT=7002 TCP_PORT=5300
LAB_FORGE_PY=$LAB_DIR/labforge.py
LAN2_IP=$(lab_lan_ip 2)
readonly LAN2_IP

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the filtering modes are gatewayd's; LAB_NAT=${LAB_NAT:-}"
/usr/bin/python3 -c 'import scapy' 2>/dev/null || lab_skip "scapy (python3-scapy) is not installed for /usr/bin/python3"

firewall_config() {
    cat <<EOF
lan: {interface: $LAB_GW_LAN_IF, networks: [$LAB_LAN_NET]}
wan: {interface: $LAB_GW_WAN_IF, address: auto}
firewall:
  filtering: $1
  policy: {inbound: drop, outbound: accept, input: drop}
  log_lines_per_second: 200
EOF
}

# use_filtering MODE: change firewall.filtering in the config the daemon reads, and reload it.
use_filtering() {
    sed -i -E "s/^  filtering: .*/  filtering: $1/" "$LAB_TMP/gatewayd.yaml"
    local out
    out=$(lab_ctl reload 2>&1) || lab_fail "gatewayctl reload to filtering $1 failed: $out"
}

# external_of ROLE PORT: the external endpoint ROLE's socket on PORT has, as the WAN echo server saw it.
external_of() {
    local answer
    answer=$(lab_py "$1" udp-ask --source-port "$2" --timeout 2 "$LAB_WAN_IP:$ECHO_PORT") ||
        lab_fail "$1:$2 got no answer from the WAN echo server: $answer"
    answer=${answer#* }
    [[ ${answer%:*} == "$LAB_GW_WAN_IP" ]] || lab_fail "$1:$2 reached the WAN as '$answer', not from $LAB_GW_WAN_IP"
    echo "$answer"
}

# expect_from OUTPUT PEER WHO: rtp-peer's summary says WHO got at least two datagrams, all from PEER.
expect_from() {
    local received from
    received=$(sed -nE 's/.*received=([0-9]+) .*/\1/p' <<<"$1")
    from=$(sed -nE 's/.* from=([^ ]+) .*/\1/p' <<<"$1")
    [[ ${received:-0} -ge 2 && $from == "$2" ]] ||
        lab_fail "$3 should have got the other's punches from its external endpoint $2 (RFC 4787 REQ-9); got: $1"
}

# punch MODE PORT FIRST_PASSES: lan1 and lan2 punch at each other from their sockets on PORT.
punch() {
    local mode=$1 port=$2 first_passes=$3 a b a_out b_out
    use_filtering "$mode"
    a=$(external_of lan "$port")
    b=$(external_of lan2 "$port")
    lab_bg lan "punch-a-$port" "$LAB_PY" "$LAB_NET_PY" rtp-peer --port "$port" --peer "$b" --count 6 \
        --interval 0.2 --size 40 --linger 0.5 --timeout 5
    local a_pid=$LAB_BG_PID
    lab_wait_log "$LAB_TMP/punch-a-$port.log" "bound to" || lab_fail "lan1's punching socket did not start"
    sleep 0.1
    b_out=$(lab_py lan2 rtp-peer --port "$port" --peer "$a" --count 6 --interval 0.2 --size 40 --linger 0.5 --timeout 5 | tail -1)
    wait "$a_pid" || true
    a_out=$(tail -1 "$LAB_TMP/punch-a-$port.log")
    expect_from "$a_out" "$b" "$mode: lan1 ($LAB_LAN_IP:$port, external $a)"
    expect_from "$b_out" "$a" "$mode: lan2 ($LAN2_IP:$port, external $b)"
    if [[ $first_passes == false ]]; then
        lab_expect_decision drop policy udp "$LAB_LAN_IP:$port" "$b" "$mode: lan1's first punch"
        [[ $LAB_DECISION == *" reason=filtered_by_mapping "* ]] ||
            lab_fail "$mode: lan1's first punch was dropped, but not by lan2's filter: $LAB_DECISION"
    fi
    lab_ok "$mode: lan1 $a and lan2 $b punched through (lan1 ${a_out%% bad_size*}; lan2 ${b_out%% bad_size*})"
}

# tcp_external_of ROLE PORT: the TCP external endpoint of ROLE's PORT, as the WAN listener saw it.
# (tcp-send's socket reuses the address, so its TIME_WAIT does not keep tcp-meet off the port.)
tcp_external_of() {
    lab_py "$1" tcp-send --source-port "$2" "$LAB_WAN_IP" "$TCP_ECHO_PORT" "from-$1" ||
        lab_fail "$1:$2 could not reach the WAN listener"
    lab_poll 3 grep -sq " from-$1\$" "$LAB_TMP/wan.arrivals" || lab_fail "the WAN listener logged nothing from $1"
    grep " from-$1\$" "$LAB_TMP/wan.arrivals" | tail -1 | cut -d' ' -f2
}

check_tcp_simultaneous_open() {
    local a b a_out b_out
    a=$(tcp_external_of lan "$TCP_PORT")
    b=$(tcp_external_of lan2 "$TCP_PORT")
    lab_bg lan tcp-open-a "$LAB_PY" "$LAB_NET_PY" tcp-meet --port "$TCP_PORT" --peer "$b" --timeout 6
    local a_pid=$LAB_BG_PID
    sleep 0.3
    b_out=$(lab_py lan2 tcp-meet --port "$TCP_PORT" --peer "$a" --timeout 6) ||
        lab_fail "TCP: lan2 ($LAN2_IP:$TCP_PORT) could not connect to lan1's external endpoint $a: $b_out"
    wait "$a_pid" || lab_fail "TCP: lan1 ($LAB_LAN_IP:$TCP_PORT) could not connect to $b: $(cat "$LAB_TMP/tcp-open-a.log")"
    a_out=$(cat "$LAB_TMP/tcp-open-a.log")
    [[ $a_out == "connected to $b; got hello from $b" && $b_out == "connected to $a; got hello from $a" ]] ||
        lab_fail "TCP: the two ends did not meet as each other's external endpoint: lan1 '$a_out', lan2 '$b_out'"
    lab_expect_decision drop policy tcp "$LAB_LAN_IP:$TCP_PORT" "$b" "TCP: lan1's first SYN"
    [[ $LAB_DECISION == *" reason=filtered_by_mapping "* ]] ||
        lab_fail "TCP: lan1's first SYN was dropped, but not by lan2's filter: $LAB_DECISION"
    lab_ok "TCP: lan1 ($a) and lan2 ($b) connected to each other, lan1's first SYN filtered (simultaneous open, RFC 5382 REQ-8)"
}

# check_icmp_error PORT: once lan1 and lan2 have punched through from PORT, lan2 sends a port
# unreachable about lan1's datagram; lan1's connected socket learns it.
check_icmp_error() {
    local port=$1 a b got
    a=$(external_of lan "$port")
    b=$(external_of lan2 "$port")
    lab_py lan udp-send --source-port "$port" "$LAB_GW_WAN_IP" "${b#*:}" punch     # filtered by lan2's mapping
    lab_py lan2 udp-send --source-port "$port" "$LAB_GW_WAN_IP" "${a#*:}" answer  # passes: lan1 punched
    lab_bg lan2 sink "$LAB_PY" "$LAB_NET_PY" listen-log --port "$port" --log "$LAB_TMP/sink.arrivals"
    lab_wait_listen lan2 udp "$port"
    lab_sniff_start lan icmp-at-lan1
    lab_bg lan hold /usr/bin/python3 "$LAB_FORGE_PY" udp-hold --source-port "$port" --server "$LAB_GW_WAN_IP" \
        --port "${b#*:}" --go "$LAB_TMP/go.hold" --log "$LAB_TMP/hold.out"
    lab_wait_log "$LAB_TMP/hold.out" sent || lab_fail "lan1's connected socket did not send"
    lab_poll 3 grep -sq "udp $a hold" "$LAB_TMP/sink.arrivals" ||
        lab_fail "lan1's datagram never reached lan2 through the hairpin: $(cat "$LAB_TMP/sink.arrivals")"
    # As lan2's stack would answer were the socket gone: quoting what it got, for the WAN address.
    lab_in lan2 /usr/bin/python3 "$LAB_FORGE_PY" icmp-unreachable --quoted-src "$LAB_GW_WAN_IP" \
        --quoted-sport "${a#*:}" --quoted-dst "$LAN2_IP" --quoted-dport "$port" >/dev/null
    lab_poll 3 grep -sq "icmp $LAB_GW_WAN_IP > $LAB_LAN_IP type 3 code 3" "$LAB_TMP/icmp-at-lan1.sniff" ||
        lab_fail "ICMP: no port unreachable from $LAB_GW_WAN_IP reached lan1; it got:"$'\n'"$(lab_sniffed icmp-at-lan1)"
    touch "$LAB_TMP/go.hold"
    lab_poll 5 grep -sqE "^(refused|quiet|answered)$" "$LAB_TMP/hold.out" || lab_fail "lan1's socket never finished"
    got=$(tail -1 "$LAB_TMP/hold.out")
    [[ $got == refused ]] ||
        lab_fail "ICMP: lan2's port unreachable about $a → $LAN2_IP:$port did not close lan1's socket ($got)"
    lab_ok "ICMP: lan2's port unreachable reached lan1 from $LAB_GW_WAN_IP, quoting $LAB_LAN_IP:$port → $b (ECONNREFUSED, RFC 5508 REQ-7)"
}

lab_up --nat gatewayd --lan-hosts 2 --config <(firewall_config endpoint-independent)
lab_heading "hole punching between two LAN hosts through the WAN address, in each filtering mode"
lab_bg wan echo "$LAB_PY" "$LAB_NET_PY" udp-echo --port "$ECHO_PORT"
lab_bg wan listener "$LAB_PY" "$LAB_NET_PY" listen-log --port "$TCP_ECHO_PORT" --log "$LAB_TMP/wan.arrivals"
lab_wait_listen wan udp "$ECHO_PORT"
lab_wait_listen wan tcp "$TCP_ECHO_PORT"

# A new pair of sockets per mode: what one mode's punches opened stays open after a reload.
punch endpoint-independent 5100 true
punch address-dependent 5101 false
punch address-and-port-dependent 5102 false
check_tcp_simultaneous_open
check_icmp_error 5103
echo "PASS  two LAN hosts punch through the hairpin in every filtering mode; its ICMP errors come back translated"
