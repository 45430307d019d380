#!/usr/bin/env bash
# The data plane LAN→WAN in the lab, gatewayd against the kernel's own NAT (iptables MASQUERADE)
# measured in the same run on the same machine, so the ratio means something even where the
# absolute figures (veth, one core per flow) do not.
#
#   bench/nat_throughput.sh [--time SECONDS] [--modes kernel,gatewayd] [--tests LIST]
#                           [--parallel N] [--latency-rate R] [--json | --tsv]
#
# Tests (all by default), each SECONDS long, per mode in one lab:
#   tcp      one iperf3 TCP flow: Mbit/s received
#   udp64    one iperf3 UDP flow of 64-byte datagrams as fast as iperf3 sends them (-b 0):
#            packets/s sent, packets/s received by the WAN host, loss %
#   connect  short TCP connections (lab_probe tcp-connect: connect, 1-byte request, 1-byte answer,
#            the server closes) with N (default 32) in flight: connections completed per second
#   latency  UDP request/response pairs paced at R a second (default 2000), lab_probe udp-latency:
#            round-trip time median and p99, and gatewayd's difference from the kernel's. A round
#            trip crosses the gateway twice, so the difference is what two passes add.
# Figures only, no pass/fail: speed depends on the machine. Progress goes to stderr, so that with
# --json stdout holds only the JSON document (--tsv: bench/figures.py's records, for bench/run).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../tests/lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/lab/lab.sh"
# shellcheck source=SCRIPTDIR/bench_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

readonly IPERF_PORT=5201 CONNECT_PORT=5300 ECHO_PORT=5400
readonly ALL_TESTS=(tcp udp64 connect latency)
seconds=5
parallel=32
latency_rate=2000
modes=(kernel gatewayd)
tests=("${ALL_TESTS[@]}")
output=table
declare -A result # "<mode>.<metric>" -> figure, absent when the measurement failed

parse_args() {
    while (($#)); do
        case $1 in
        --time | -t) seconds=${2:?--time needs seconds}; shift 2 ;;
        --modes) IFS=, read -r -a modes <<<"${2:?--modes needs a list}"; shift 2 ;;
        --tests) IFS=, read -r -a tests <<<"${2:?--tests needs a list}"; shift 2 ;;
        --parallel) parallel=${2:?--parallel needs a number}; shift 2 ;;
        --latency-rate) latency_rate=${2:?--latency-rate needs pairs per second}; shift 2 ;;
        --json) output=json; shift ;;
        --tsv) output=tsv; shift ;;
        -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
        esac
    done
    [[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "--time must be whole seconds, at least 1" >&2; exit 2; }
    [[ $parallel =~ ^[1-9][0-9]*$ ]] || { echo "--parallel must be a positive number" >&2; exit 2; }
    [[ $latency_rate =~ ^[1-9][0-9]*$ ]] || { echo "--latency-rate must be a positive number" >&2; exit 2; }
    local test mode
    for test in "${tests[@]}"; do
        [[ " ${ALL_TESTS[*]} " == *" $test "* ]] || { echo "unknown test '$test' (${ALL_TESTS[*]})" >&2; exit 2; }
    done
    for mode in "${modes[@]}"; do
        [[ $mode == kernel || $mode == gatewayd ]] || { echo "unknown mode '$mode' (kernel, gatewayd)" >&2; exit 2; }
    done
}

selected() { [[ " ${tests[*]} " == *" $1 "* ]]; }

# run_iperf NAME IPERF3-CLIENT-ARGS...: one measurement against a fresh one-shot server; the JSON
# report goes to $LAB_TMP/NAME.json. Fails (with iperf3's reason) if iperf3 does.
run_iperf() {
    local name=$1 json=$LAB_TMP/$1.json
    shift
    lab_bg wan "iperf-server-$name" iperf3 -s -1 -p "$IPERF_PORT"
    lab_wait_listen wan tcp "$IPERF_PORT"
    if ! lab_lan timeout $((seconds + 20)) iperf3 -c "$LAB_WAN_IP" -p "$IPERF_PORT" -t "$seconds" -J "$@" >"$json"; then
        bench_progress "  $name failed: $(lab_json error <"$json" 2>/dev/null || echo "no report (timed out?)")"
        lab_stop_pid "$LAB_BG_PID"
        return 1
    fi
    lab_stop_pid "$LAB_BG_PID"
}

measure_tcp() {
    local mode=$1 bps
    bench_progress "  TCP, one flow, ${seconds}s"
    run_iperf tcp || return 0
    bps=$(lab_json end.sum_received.bits_per_second <"$LAB_TMP/tcp.json")
    result[$mode.tcp_mbit_s]=$(awk -v b="$bps" 'BEGIN { printf "%.1f", b / 1e6 }')
}

measure_udp64() {
    local mode=$1 json=$LAB_TMP/udp64.json sent expected lost elapsed
    bench_progress "  UDP, 64-byte datagrams, unlimited rate, ${seconds}s"
    run_iperf udp64 -u -l 64 -b 0 || return 0
    sent=$(lab_json end.sum_sent.packets <"$json")
    # The receiver's "packets" counts by sequence number, i.e. includes the lost ones.
    expected=$(lab_json end.sum_received.packets <"$json")
    lost=$(lab_json end.sum_received.lost_packets <"$json")
    elapsed=$(lab_json end.sum_received.seconds <"$json")
    result[$mode.udp64_sent_pps]=$(awk -v n="$sent" -v s="$elapsed" 'BEGIN { printf "%.0f", n / s }')
    result[$mode.udp64_received_pps]=$(awk -v n="$expected" -v l="$lost" -v s="$elapsed" 'BEGIN { printf "%.0f", (n - l) / s }')
    result[$mode.udp64_loss_percent]=$(awk -v p="$(lab_json end.sum_received.lost_percent <"$json")" 'BEGIN { printf "%.2f", p }')
}

# probe_pair NAME tcp|udp PORT SERVER-ARGS -- CLIENT-ARGS: a lab_probe server on the WAN host's
# PORT, then a lab_probe client on the LAN host; the client's JSON line goes to $LAB_TMP/NAME.json.
probe_pair() {
    local name=$1 protocol=$2 port=$3 server=() server_pid
    shift 3
    while [[ $1 != -- ]]; do server+=("$1"); shift; done
    shift
    lab_bg wan "$name-server" "$LAB_PROBE" "${server[@]}"
    server_pid=$LAB_BG_PID
    lab_wait_listen wan "$protocol" "$port"
    if ! lab_lan timeout $((seconds + 20)) "$LAB_PROBE" "$@" >"$LAB_TMP/$name.json"; then
        bench_progress "  $name failed: $(cat "$LAB_TMP/$name.json")"
        lab_stop_pid "$server_pid"
        return 1
    fi
    lab_stop_pid "$server_pid"
    bench_progress "  $(cat "$LAB_TMP/$name.json")"
}

measure_connect() {
    local mode=$1 json=$LAB_TMP/connect.json
    bench_progress "  short TCP connections, $parallel in flight, ${seconds}s"
    probe_pair connect tcp "$CONNECT_PORT" tcp-server --port "$CONNECT_PORT" -- \
        tcp-connect --to "$LAB_WAN_IP:$CONNECT_PORT" --seconds "$seconds" --parallel "$parallel" || return 0
    result[$mode.tcp_connections_per_s]=$(bench_json_figure per_second <"$json")
    result[$mode.tcp_connect_failures]=$(bench_json_figure failed <"$json")
}

measure_latency() {
    local mode=$1 json=$LAB_TMP/latency.json
    bench_progress "  UDP request/response, $latency_rate pairs/s, ${seconds}s"
    probe_pair latency udp "$ECHO_PORT" udp-echo --port "$ECHO_PORT" -- \
        udp-latency --to "$LAB_WAN_IP:$ECHO_PORT" --rate "$latency_rate" --seconds "$seconds" || return 0
    result[$mode.rtt_median_us]=$(bench_json_figure median_us <"$json")
    result[$mode.rtt_p99_us]=$(bench_json_figure p99_us <"$json")
    result[$mode.latency_loss_percent]=$(bench_json_figure loss_percent <"$json")
}

measure_mode() {
    bench_progress "== $1"
    lab_up --nat "$1"
    if selected tcp; then measure_tcp "$1"; fi
    if selected udp64; then measure_udp64 "$1"; fi
    if selected connect; then measure_connect "$1"; fi
    if selected latency; then measure_latency "$1"; fi
    lab_down
}

# figure_record PART METRIC LABEL COMPARE
figure_record() {
    bench_record figure "$1" kernel "$2" "$3" "$4" "${result[gatewayd.$2]:-n/a}" "${result[kernel.$2]:-n/a}"
}

records() {
    local part
    if selected tcp || selected udp64 || selected connect; then
        part=dataplane
        bench_record setting $part seconds_per_test "$seconds"
        if selected tcp; then figure_record $part tcp_mbit_s "TCP throughput, Mbit/s" ratio; fi
        if selected udp64; then
            figure_record $part udp64_sent_pps "UDP 64 B sent, pkt/s" ratio
            figure_record $part udp64_received_pps "UDP 64 B received, pkt/s" ratio
            figure_record $part udp64_loss_percent "UDP 64 B loss, %" none
        fi
        if selected connect; then
            bench_record setting $part connections_in_flight "$parallel"
            figure_record $part tcp_connections_per_s "new TCP connections/s" ratio
            figure_record $part tcp_connect_failures "TCP connections failed" none
        fi
    fi
    if selected latency; then
        part=latency
        bench_record setting $part seconds "$seconds"
        bench_record setting $part pairs_per_second "$latency_rate"
        figure_record $part rtt_median_us "round trip, median, µs" ratio+difference
        figure_record $part rtt_p99_us "round trip, p99, µs" ratio+difference
        figure_record $part latency_loss_percent "pairs lost, %" none
        bench_record note $part "a round trip crosses the gateway twice: the difference is what two passes add"
    fi
}

parse_args "$@"
command -v iperf3 >/dev/null || { echo "iperf3 is needed" >&2; exit 1; }
if selected connect || selected latency; then bench_require_program "$LAB_PROBE"; fi
# Find out before spending a whole kernel measurement.
if [[ " ${modes[*]} " == *" gatewayd "* && ! -x $GATEWAYD ]]; then
    echo "no gatewayd at $GATEWAYD: build it (cmake -S . -B build && cmake --build build) or use --modes kernel" >&2
    exit 1
fi
for mode in "${modes[@]}"; do measure_mode "$mode"; done
records | bench_output "$output"
