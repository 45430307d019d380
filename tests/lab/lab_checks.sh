#!/usr/bin/env bash
# Checks and reports for scripts that use the lab: probes LAN→WAN, a packet capture on a lab link,
# and ok/FAIL/SKIP lines. Sourced by lab.sh (source that, not this); needs lab.sh's state.

# ---------------------------------------------------------------------------------------------
# Reporting, for tests, benchmarks and the demo

lab_heading() { printf '\n== %s\n' "$*"; }
lab_ok() { printf '  ok    %s\n' "$*"; }

# lab_fail MESSAGE: fail the script, with the daemon's log to explain why.
lab_fail() {
    printf 'FAIL  %s\n' "$*" >&2
    if [[ -n $LAB_DAEMON_LOG && -s $LAB_DAEMON_LOG ]]; then
        printf -- '--- gatewayd log, last 40 lines (start #%s)\n' "$LAB_DAEMON_STARTS" >&2
        tail -n 40 "$LAB_DAEMON_LOG" | sed 's/^/    /' >&2
    fi
    exit 1
}

# lab_skip MESSAGE: exit 77 (the CTest/automake "skipped" code), except under CI=true where a
# skipped integration test must fail instead of passing quietly.
lab_skip() {
    if [[ ${CI:-} == true ]]; then lab_fail "would skip, but CI=true: $*"; fi
    printf 'SKIP  %s\n' "$*"
    exit 77
}

# ---------------------------------------------------------------------------------------------
# Probes LAN→WAN, quiet and quick (1 s timeouts): as useful to show traffic is blocked as that it flows

lab_ping_gets_through() {
    lab_py lan ping --count 2 --timeout 1 "$LAB_WAN_IP" >/dev/null
}

# lab_udp_gets_through PORT: a udp-echo server must be listening on the WAN host's PORT.
lab_udp_gets_through() {
    lab_py lan udp-ask --timeout 1 "$LAB_WAN_IP:$1" >/dev/null
}

# lab_expect_traffic_flows ECHO-PORT WHEN: ping and a UDP exchange LAN→WAN both get through.
lab_expect_traffic_flows() {
    lab_ping_gets_through || lab_fail "$2: ping LAN→WAN does not get through"
    lab_udp_gets_through "$1" || lab_fail "$2: UDP LAN→WAN does not get through"
}

# lab_expect_traffic_blocked ECHO-PORT WHEN: neither ping nor a UDP exchange LAN→WAN gets through.
lab_expect_traffic_blocked() {
    if lab_ping_gets_through; then lab_fail "$2: ping LAN→WAN still gets through"; fi
    if lab_udp_gets_through "$1"; then lab_fail "$2: UDP LAN→WAN still gets through"; fi
}

# ---------------------------------------------------------------------------------------------
# Capturing on the wire (one capture at a time)

# lab_capture_start ROLE IFACE [CAPTURE-FILTER]: tshark on IFACE of ROLE's namespace, into
# $LAB_CAPTURE_FILE; returns once tshark says it is capturing, so no early packet is missed.
lab_capture_start() {
    command -v tshark >/dev/null || _lab_die "missing tool: tshark"
    LAB_CAPTURE_FILE=$LAB_TMP/capture.pcap
    lab_bg "$1" tshark tshark -n -i "$2" -f "${3:-ip}" -w "$LAB_CAPTURE_FILE"
    LAB_CAPTURE_PID=$LAB_BG_PID
    lab_wait_log "$LAB_TMP/tshark.log" "Capturing on" 10 ||
        _lab_die "tshark did not start capturing in the $1 namespace: $(cat "$LAB_TMP/tshark.log")"
}

# lab_capture_stop [DISPLAY-FILTER COUNT]: dumpcap writes packets in batches and SIGTERM loses the
# last batch, so first wait (up to 5 s) until COUNT packets matching DISPLAY-FILTER are in the file.
lab_capture_stop() {
    if (($# == 2)); then lab_poll 5 _lab_capture_holds "$1" "$2" || true; fi
    lab_stop_pid "$LAB_CAPTURE_PID"
    LAB_CAPTURE_PID=''
}

_lab_capture_holds() {
    (($(lab_capture_read -Y "$1" -T fields -e frame.number | wc -l) >= $2))
}

# lab_capture_read TSHARK-ARGS...: read the capture (tshark -n -r FILE ARGS).
lab_capture_read() {
    tshark -n -r "$LAB_CAPTURE_FILE" "$@" 2>/dev/null
}

# ---------------------------------------------------------------------------------------------
# Sniffers on lab hosts: what reached a host, even where nothing listens or a handshake never
# completes. Any number at once, unlike the capture above.

# lab_sniff_start ROLE NAME [PORT...]: log every IPv4 packet arriving on ROLE's eth0 (with PORTs,
# only TCP/UDP from or to one of them) into $LAB_TMP/NAME.sniff; returns once it is listening.
lab_sniff_start() {
    local role=$1 name=$2 port args=()
    shift 2
    for port in "$@"; do args+=(--port "$port"); done
    : >"$LAB_TMP/$name.sniff"
    lab_bg "$role" "$name" "$LAB_PY" "$LAB_NET_PY" sniff --interface "$LAB_HOST_IF" --log "$LAB_TMP/$name.sniff" "${args[@]}"
    lab_wait_log "$LAB_TMP/$name.log" "sniffing on" ||
        _lab_die "the sniffer $name did not start in the $role namespace: $(cat "$LAB_TMP/$name.log")"
}

# lab_sniffed NAME: the packets the sniffer NAME has seen, "<proto> <src> > <dst> [tcp flags]" each.
lab_sniffed() { cat "$LAB_TMP/$1.sniff"; }

# ---------------------------------------------------------------------------------------------
# The daemon's decision log: one line per decision on stderr ($LAB_DAEMON_LOG), e.g.
#   gatewayd: drop rule=rdp-others reason=denied_by_rule dir=inbound proto=tcp src=203.0.113.2:43001 dst=203.0.113.1:3389 flags=S len=60

# lab_expect_decision VERDICT RULE PROTO SRC DST WHAT: wait (up to 5 s) for gatewayd's decision
# about the packet PROTO SRC → DST (ip:port as it arrived, before any translation) and require
# VERDICT (accept, drop or reject) by RULE ("policy" when no rule decided). The first line about
# that packet counts (a TCP retry logs again). Sets LAB_DECISION to the line, without "gatewayd: ".
lab_expect_decision() {
    local verdict=$1 rule=$2 packet="$3 $4 → $5" what=$6 pattern line same_source
    pattern=" proto=$3 src=${4//./\\.} dst=${5//./\\.}( |\$)"
    if ! lab_poll 5 grep -sqE -- "$pattern" "$LAB_DAEMON_LOG"; then
        same_source=$(grep -F " proto=$3 src=$4 " "$LAB_DAEMON_LOG" || true)
        [[ -z $same_source ]] || same_source="; about $3 from $4 it logged:"$'\n'"$same_source"
        lab_fail "$what: gatewayd logged no decision about $packet (expected $verdict rule=$rule)$same_source"
    fi
    line=$(grep -m1 -E -- "$pattern" "$LAB_DAEMON_LOG")
    [[ $line == "gatewayd: $verdict rule=$rule "* ]] ||
        lab_fail "$what: expected '$verdict rule=$rule' for $packet; gatewayd logged: $line"
    # shellcheck disable=SC2034 # read by the scripts that call this
    LAB_DECISION=${line#gatewayd: }
}
