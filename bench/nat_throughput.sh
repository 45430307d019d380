#!/usr/bin/env bash
# NAT throughput LAN→WAN in the lab, gatewayd against the kernel's own NAT (iptables MASQUERADE)
# measured in the same run on the same machine, so the ratio means something even where the
# absolute figures (veth, one core per flow) do not.
#
#   bench/nat_throughput.sh [--time SECONDS] [--modes kernel,gatewayd] [--json]
#
# Per mode: one iperf3 TCP flow (Mbit/s received) and one iperf3 UDP flow of 64-byte datagrams sent
# as fast as iperf3 can (-b 0): packets/s sent, packets/s received by the WAN host, loss %.
# Figures only, no pass/fail: speed depends on the machine. Progress goes to stderr, so that with
# --json stdout holds only the JSON document.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../tests/lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/lab/lab.sh"

readonly IPERF_PORT=5201
seconds=5
modes=(kernel gatewayd)
output=table
declare -A result # "<mode>.<metric>" -> figure, absent when the measurement failed

parse_args() {
    while (($#)); do
        case $1 in
        --time | -t) seconds=${2:?--time needs seconds}; shift 2 ;;
        --modes) IFS=, read -r -a modes <<<"${2:?--modes needs a list}"; shift 2 ;;
        --json) output=json; shift ;;
        -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
        esac
    done
}

progress() { printf '%s\n' "$*" >&2; }

# run_iperf NAME IPERF3-CLIENT-ARGS...: one measurement against a fresh one-shot server; the JSON
# report goes to $LAB_TMP/NAME.json. Fails (with iperf3's reason) if iperf3 does.
run_iperf() {
    local name=$1 json=$LAB_TMP/$1.json
    shift
    lab_bg wan "iperf-server-$name" iperf3 -s -1 -p "$IPERF_PORT"
    lab_wait_listen wan tcp "$IPERF_PORT"
    if ! lab_lan timeout $((seconds + 20)) iperf3 -c "$LAB_WAN_IP" -p "$IPERF_PORT" -t "$seconds" -J "$@" >"$json"; then
        progress "  $name failed: $(lab_json error <"$json" 2>/dev/null || echo "no report (timed out?)")"
        lab_stop_pid "$LAB_BG_PID"
        return 1
    fi
    lab_stop_pid "$LAB_BG_PID"
}

measure_tcp() {
    local mode=$1 bps
    progress "  TCP, one flow, ${seconds}s"
    run_iperf tcp || return 0
    bps=$(lab_json end.sum_received.bits_per_second <"$LAB_TMP/tcp.json")
    result[$mode.tcp_mbit_s]=$(awk -v b="$bps" 'BEGIN { printf "%.1f", b / 1e6 }')
}

measure_udp64() {
    local mode=$1 json=$LAB_TMP/udp64.json sent expected lost elapsed
    progress "  UDP, 64-byte datagrams, unlimited rate, ${seconds}s"
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

measure_mode() {
    progress "== $1"
    lab_up --nat "$1"
    measure_tcp "$1"
    measure_udp64 "$1"
    lab_down
}

# figure MODE METRIC: the figure, or "n/a" when it could not be measured.
figure() { echo "${result[$1.$2]:-n/a}"; }

# ratio METRIC: gatewayd/kernel, when both exist and the ratio means something.
ratio() {
    [[ $1 != *loss_percent ]] || { echo -; return; }
    local kernel=${result[kernel.$1]:-} gatewayd=${result[gatewayd.$1]:-}
    if [[ -z $kernel || -z $gatewayd ]] || awk -v k="$kernel" 'BEGIN { exit !(k == 0) }'; then
        echo n/a
        return
    fi
    awk -v k="$kernel" -v g="$gatewayd" 'BEGIN { printf "%.3f", g / k }'
}

readonly METRICS=(tcp_mbit_s udp64_sent_pps udp64_received_pps udp64_loss_percent)
readonly -A LABELS=(
    [tcp_mbit_s]="TCP throughput, Mbit/s"
    [udp64_sent_pps]="UDP 64 B sent, pkt/s"
    [udp64_received_pps]="UDP 64 B received, pkt/s"
    [udp64_loss_percent]="UDP 64 B loss, %"
)

print_table() {
    local metric
    printf '\nNAT throughput LAN→WAN (iperf3, %ss per test, veth lab)\n' "$seconds"
    printf '%-28s %14s %14s %16s\n' "" kernel gatewayd gatewayd/kernel
    for metric in "${METRICS[@]}"; do
        printf '%-28s %14s %14s %16s\n' "${LABELS[$metric]}" \
            "$(figure kernel "$metric")" "$(figure gatewayd "$metric")" "$(ratio "$metric")"
    done
}

# JSON number or null.
json_value() {
    local value=${1:-n/a}
    [[ $value == n/a ]] && value=null
    echo "$value"
}

print_json() {
    local mode metric separator
    printf '{"seconds": %s' "$seconds"
    for mode in kernel gatewayd; do
        printf ', "%s": {' "$mode"
        separator=''
        for metric in "${METRICS[@]}"; do
            printf '%s"%s": %s' "$separator" "$metric" "$(json_value "$(figure "$mode" "$metric")")"
            separator=', '
        done
        printf '}'
    done
    printf ', "ratio_gatewayd_over_kernel": {"tcp_mbit_s": %s, "udp64_received_pps": %s}}\n' \
        "$(json_value "$(ratio tcp_mbit_s)")" "$(json_value "$(ratio udp64_received_pps)")"
}

parse_args "$@"
command -v iperf3 >/dev/null || { echo "iperf3 is needed" >&2; exit 1; }
# Find out before spending a whole kernel measurement.
if [[ " ${modes[*]} " == *" gatewayd "* && ! -x $GATEWAYD ]]; then
    echo "no gatewayd at $GATEWAYD: build it (cmake -S . -B build && cmake --build build) or use --modes kernel" >&2
    exit 1
fi
for mode in "${modes[@]}"; do measure_mode "$mode"; done
if [[ $output == json ]]; then print_json; else print_table; fi
