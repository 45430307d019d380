#!/usr/bin/env bash
# Shared by tests/integration/hostile_*.sh (issue 7): a lab whose LAN host holds a live TCP
# connection and a UDP mapping through gatewayd, crafted packet barrages (labhostile.py, scapy)
# from either side, and the checks every such test makes:
#   - what reached the host on the far side: exactly the crafted packets meant to pass (sniffed
#     by their mark, IP id 0xBAxx and TTL 77), nothing else;
#   - which drop counters of `gatewayctl status --json` moved, and by how much;
#   - the daemon still runs, and the TCP connection and the UDP mapping still work with the same
#     external ports as before the barrage.
# Source it after lab.sh.

LAB_HOSTILE_PY=${LAB_HOSTILE_PY:-/usr/bin/python3}
LAB_HOSTILE=$LAB_DIR/labhostile.py
readonly HOSTILE_ECHO_TCP=7000 HOSTILE_ECHO_UDP=7001 HOSTILE_LAN_UDP=5353
HOSTILE_TCP_PORT='' HOSTILE_UDP_PORT='' HOSTILE_TCP_REMOTE_PORT='' HOSTILE_SENT='' HOSTILE_TCP_SEQ='' HOSTILE_TCP_ACK=''

hostile_py() { "$LAB_HOSTILE_PY" "$LAB_HOSTILE" "$@"; }

# hostile_up: the lab, its flows and the sniffers on both hosts.
hostile_up() {
    # Daemon-only: the kernel's NAT has no drop counters to check.
    [[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the hostile tests read gatewayd's counters; LAB_NAT=${LAB_NAT:-}"
    "$LAB_HOSTILE_PY" -c 'import scapy' 2>/dev/null || lab_skip "python3-scapy is not installed for $LAB_HOSTILE_PY"
    lab_up --nat gatewayd
    lab_bg wan line-echo "$LAB_PY" "$LAB_NET_PY" line-echo --port "$HOSTILE_ECHO_TCP"
    lab_bg wan udp-echo "$LAB_PY" "$LAB_NET_PY" udp-echo --port "$HOSTILE_ECHO_UDP"
    lab_wait_listen wan tcp "$HOSTILE_ECHO_TCP"
    lab_wait_listen wan udp "$HOSTILE_ECHO_UDP"
    _hostile_sniff lan
    _hostile_sniff wan

    # The WAN wire shows the server's sequence numbers, so crafted segments can be exactly in window.
    lab_capture_start wan "$LAB_HOST_IF" "tcp port $HOSTILE_ECHO_TCP"
    lab_bg lan hold-tcp "$LAB_HOSTILE_PY" "$LAB_HOSTILE" hold-tcp "$LAB_WAN_IP" "$HOSTILE_ECHO_TCP" --go "$LAB_TMP/go"
    lab_wait_log "$LAB_TMP/hold-tcp.log" before || lab_fail "no TCP connection through the gateway: $(cat "$LAB_TMP/hold-tcp.log")"
    lab_capture_stop "tcp.srcport == $HOSTILE_ECHO_TCP && tcp.len > 0" 1
    _hostile_read_server_sequence
    local seen
    seen=$(awk '/ before$/ {print $1}' "$LAB_TMP/hold-tcp.log")
    [[ $seen == "$LAB_GW_WAN_IP":* ]] || lab_fail "the WAN server saw the TCP client as '$seen'"
    HOSTILE_TCP_PORT=${seen##*:}
    HOSTILE_TCP_REMOTE_PORT=$HOSTILE_ECHO_TCP
    HOSTILE_UDP_PORT=$(_hostile_udp_external_port) || lab_fail "no UDP exchange through the gateway"
    lab_ok "flows up: TCP $LAB_LAN_IP → $LAB_WAN_IP:$HOSTILE_ECHO_TCP as $LAB_GW_WAN_IP:$HOSTILE_TCP_PORT, UDP $LAB_LAN_IP:$HOSTILE_LAN_UDP → :$HOSTILE_ECHO_UDP as $LAB_GW_WAN_IP:$HOSTILE_UDP_PORT"
    hostile_snapshot before
}

# HOSTILE_TCP_SEQ / HOSTILE_TCP_ACK: the server's next sequence number and what it acknowledges,
# from its last segment (the answer to "before"): a segment from it with these is in window.
_hostile_read_server_sequence() {
    local last seq len
    last=$(lab_capture_read -Y "tcp.srcport == $HOSTILE_ECHO_TCP && tcp.len > 0" -T fields -E separator=' ' \
        -e tcp.seq_raw -e tcp.len -e tcp.ack_raw | tail -n 1)
    [[ $last =~ ^[0-9]+\ [0-9]+\ [0-9]+$ ]] || lab_fail "cannot read the server's sequence numbers from the WAN capture: '$last'"
    read -r seq len HOSTILE_TCP_ACK <<<"$last"
    HOSTILE_TCP_SEQ=$(((seq + len) % 4294967296))
}

_hostile_sniff() {
    : >"$LAB_TMP/$1.marked"
    lab_bg "$1" "sniff-$1" "$LAB_HOSTILE_PY" "$LAB_HOSTILE" sniff-marked --interface "$LAB_HOST_IF" --log "$LAB_TMP/$1.marked"
    lab_wait_log "$LAB_TMP/sniff-$1.log" "sniffing on" || lab_fail "the $1 sniffer did not start: $(cat "$LAB_TMP/sniff-$1.log")"
}

_hostile_udp_external_port() {
    local answer
    answer=$(lab_py lan udp-ask --timeout 2 --source-port "$HOSTILE_LAN_UDP" "$LAB_WAN_IP:$HOSTILE_ECHO_UDP") || return 1
    answer=${answer##* }
    [[ $answer == "$LAB_GW_WAN_IP":* ]] || return 1
    echo "${answer##*:}"
}

_hostile_mac() { ip -n "$1" -br link show dev "$2" | awk '{print $3}'; }

# hostile_send FROM GROUP: send a barrage from the WAN host (wan) or the LAN host (lan) and check
# that exactly its "(passes)" packets reached the host on the other side.
hostile_send() {
    local from=$1 group=$2 mac far
    if [[ $from == wan ]]; then
        mac=$(_hostile_mac "$LAB_NS_GW" "$LAB_GW_WAN_IF") far=lan
    else
        mac=$(_hostile_mac "$LAB_NS_GW" "$LAB_GW_LAN_IF") far=wan
    fi
    : >"$LAB_TMP/$far.marked"
    HOSTILE_SENT=$LAB_TMP/$group.sent
    lab_in "$from" "$LAB_HOSTILE_PY" "$LAB_HOSTILE" send "$group" --interface "$LAB_HOST_IF" --gw-mac "$mac" \
        --target "$LAB_GW_WAN_IP" --gw-lan "$LAB_GW_LAN_IP" --remote "$LAB_WAN_IP" --lan-host "$LAB_LAN_IP" \
        --udp-port "$HOSTILE_UDP_PORT" --udp-lan-port "$HOSTILE_LAN_UDP" --udp-remote-port "$HOSTILE_ECHO_UDP" \
        --tcp-port "$HOSTILE_TCP_PORT" --tcp-remote-port "$HOSTILE_TCP_REMOTE_PORT" \
        --tcp-seq "$HOSTILE_TCP_SEQ" --tcp-ack "$HOSTILE_TCP_ACK" \
        >"$HOSTILE_SENT" 2>"$LAB_TMP/$group.send-errors" ||
        lab_fail "sending the $group barrage failed: $(cat "$LAB_TMP/$group.send-errors")"
    # Wait (on a loaded machine too) until what should pass has arrived, then a little longer so
    # that a hostile packet forwarded late would be seen as well.
    lab_poll 5 _hostile_arrivals_right "$far" || true
    sleep 0.5
    local verdict
    verdict=$(hostile_py check-arrivals --sent "$HOSTILE_SENT" --sniffed "$LAB_TMP/$far.marked") ||
        lab_fail "$group from the $from side, on the $far host:"$'\n'"$verdict"
    lab_ok "$group ($(wc -l <"$HOSTILE_SENT") packets from the $from side): $verdict on the $far host"
}

_hostile_arrivals_right() {
    hostile_py check-arrivals --sent "$HOSTILE_SENT" --sniffed "$LAB_TMP/$1.marked" >/dev/null
}

# hostile_snapshot NAME: the daemon's drop counters ($LAB_TMP/NAME.drops) and the gateway
# kernel's IP counters ($LAB_TMP/NAME.nstat) now.
hostile_snapshot() {
    lab_ctl --json status >"$LAB_TMP/$1.json" || lab_fail "gatewayctl status failed (is the daemon alive?)"
    hostile_py drops "$LAB_TMP/$1.json" >"$LAB_TMP/$1.drops"
    lab_gw nstat -asz 2>/dev/null >"$LAB_TMP/$1.nstat" || true
}

# _hostile_delta FILE-SUFFIX NAME: NAME's counter in "after" minus "before" (absent = 0).
_hostile_delta() {
    local before after
    before=$(awk -v k="$2" '$1 == k {print $2}' "$LAB_TMP/before.$1")
    after=$(awk -v k="$2" '$1 == k {print $2}' "$LAB_TMP/after.$1")
    echo $((${after:-0} - ${before:-0}))
}

# hostile_expect_drops REASON=N...: after the barrages, each REASON's counter grew by exactly N,
# and no counter that is not named moved (so nothing was dropped for a reason the test did not
# expect, nor let through uncounted).
hostile_expect_drops() {
    hostile_snapshot after
    local pair reason want got named=' '
    for pair in "$@"; do
        reason=${pair%=*} want=${pair#*=}
        named+="$reason "
        got=$(_hostile_delta drops "$reason")
        ((got == want)) || lab_fail "drop counter $reason grew by $got, expected $want (before: $(tr '\n' ' ' <"$LAB_TMP/before.drops"); after: $(tr '\n' ' ' <"$LAB_TMP/after.drops"))"
    done
    while read -r reason _; do
        [[ $named == *" $reason "* ]] && continue
        got=$(_hostile_delta drops "$reason")
        ((got == 0)) || lab_fail "drop counter $reason grew by $got, which no crafted packet should cause"
    done <"$LAB_TMP/after.drops"
    lab_ok "drop counters grew by: $*"
}

# hostile_expect_kernel COUNTER=MIN...: the gateway kernel's own counters (nstat names) grew by at
# least MIN: what it drops in ip_rcv never reaches NFQUEUE, so gatewayd cannot count it.
hostile_expect_kernel() {
    local pair name want got
    for pair in "$@"; do
        name=${pair%=*} want=${pair#*=}
        got=$(_hostile_delta nstat "$name")
        ((got >= want)) || lab_fail "the gateway kernel's $name grew by $got, expected at least $want"
    done
    lab_ok "the gateway kernel counted its own drops: $*"
}

# hostile_expect_flows_intact: the daemon is alive, the TCP connection carries data again and the
# UDP mapping answers, both through the same external ports as before the barrages.
hostile_expect_flows_intact() {
    _lab_pid_gone "$LAB_DAEMON_PID" && lab_fail "gatewayd died during the barrage"
    touch "$LAB_TMP/go"
    lab_poll 5 grep -q ' after$' "$LAB_TMP/hold-tcp.log" ||
        lab_fail "the TCP connection through the gateway no longer carries data: $(cat "$LAB_TMP/hold-tcp.log")"
    local seen port
    seen=$(awk '/ after$/ {print $1}' "$LAB_TMP/hold-tcp.log")
    [[ $seen == "$LAB_GW_WAN_IP:$HOSTILE_TCP_PORT" ]] ||
        lab_fail "after the barrage the TCP client is seen as $seen, before as $LAB_GW_WAN_IP:$HOSTILE_TCP_PORT"
    port=$(_hostile_udp_external_port) || lab_fail "the UDP mapping no longer answers after the barrage"
    [[ $port == "$HOSTILE_UDP_PORT" ]] || lab_fail "the UDP mapping moved from port $HOSTILE_UDP_PORT to $port"
    lab_ok "after the barrage: gatewayd runs, TCP still seen as $seen, UDP still mapped to :$port"
}
