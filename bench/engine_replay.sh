#!/usr/bin/env bash
# The packet engine alone, without NFQUEUE or veth: `gatewayd --replay` over a generated capture of
# N concurrent UDP flows (bench/make_flow_capture: K packets each, round by round, all alive at
# the end), and bench/flow_memory for the bytes each tracked flow costs. No lab, no root.
#
#   bench/engine_replay.sh [--flows N (1000000)] [--packets-per-flow K (4)] [--json | --tsv]
#
# Packets per second per core: the replay runs the engine on one thread, and pcap_replay.cpp reads
# the whole capture into memory before the timed loop and writes its output after it, timing
# run_engine alone, so file I/O is excluded; the figure is packets per second of the replay thread's
# CPU time (CLOCK_THREAD_CPUTIME_ID), so a busy machine does not lower it. The share of a core the
# replay process got is printed beside it (bash's time).
# The replay's config sets nat.max_mappings (the flow table's size too) above N. At the default
# size the capture takes about 250 MB in $TMPDIR (removed at the end) and the replay about 1 GB.
# Figures only, no pass/fail. Progress goes to stderr, so that with --json stdout holds only JSON
# (--tsv: bench/figures.py's records, for bench/run).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../tests/lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/lab/lab.sh"
# shellcheck source=SCRIPTDIR/bench_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

readonly REPLAY_WAN_ADDRESS=192.0.2.1 # RFC 5737 TEST-NET-1: offline, nothing is sent anywhere
flows=1000000
packets_per_flow=4
output=table
declare -A result

parse_args() {
    while (($#)); do
        case $1 in
        --flows) flows=${2:?--flows needs a number}; shift 2 ;;
        --packets-per-flow) packets_per_flow=${2:?--packets-per-flow needs a number}; shift 2 ;;
        --json) output=json; shift ;;
        --tsv) output=tsv; shift ;;
        -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
        esac
    done
    if [[ ! $flows =~ ^[1-9][0-9]*$ ]] || ((flows > 16000000)); then
        echo "--flows must be 1 to 16000000" >&2
        exit 2
    fi
    [[ $packets_per_flow =~ ^[1-9][0-9]*$ ]] || { echo "--packets-per-flow must be a positive number" >&2; exit 2; }
}

# Enough remotes per LAN endpoint that the LAN endpoints (one NAT port each) fit one WAN address.
remotes_per_endpoint() { echo $(((flows + 49999) / 50000 > 32 ? (flows + 49999) / 50000 : 32)); }

# The replay's config: the limits above N. A flow-limit key of its own, if the schema has one
# (docs/configuration.md is generated from it), is raised too.
replay_config() {
    local limit=$((flows + flows / 8 + 1024)) key
    cat <<EOF
lan: {interface: lan0, networks: [10.0.0.0/8]}
wan: {interface: wan0, address: $REPLAY_WAN_ADDRESS}
upnp: {enabled: false}
nat:
  max_mappings: $limit
EOF
    for key in max_flows flow_limit; do
        if grep -q "\`nat\.$key\`" "$LAB_REPO/docs/configuration.md" 2>/dev/null; then echo "  $key: $limit"; fi
    done
}

# summary_field REGEX: the first number the replay summary's matching line captures.
summary_field() { sed -nE "s|$1|\\1|p" "$work/replay.txt" | head -n 1; }

measure_replay() {
    local capture=$work/flows.pcap
    bench_progress "== engine: generating $flows flows x $packets_per_flow packets"
    bench_progress "  $("$BENCH_BIN_DIR/make_flow_capture" --flows "$flows" --packets-per-flow "$packets_per_flow" \
        --remotes-per-endpoint "$(remotes_per_endpoint)" --output "$capture")"
    replay_config >"$work/replay.yaml"
    bench_progress "  gatewayd --replay ($(du -h "$capture" | cut -f1) capture)"
    # The output capture is not looked at: /dev/null spares the disk. bash's `time` says how much
    # of a core the replay got: far below 100 %, the machine was busy and packets/s is low.
    local TIMEFORMAT='%R %U %S' real user system
    if ! { time "$GATEWAYD" --replay "$capture" --write /dev/null --config "$work/replay.yaml" >"$work/replay.txt" 2>&1; } 2>"$work/replay.time"; then
        bench_progress "  replay failed: $(cat "$work/replay.txt")"
        return 0
    fi
    sed 's/^/  /' "$work/replay.txt" >&2
    read -r real user system <"$work/replay.time"
    result[replay_cpu_percent]=$(awk -v r="$real" -v u="$user" -v s="$system" 'BEGIN { printf "%.0f", (r > 0 ? 100 * (u + s) / r : 0) }')
    result[packets_per_s]=$(summary_field '^engine cpu: [0-9]+ us of this thread.s CPU time, ([0-9]+) packets/s per core.*')
    result[flows_live]=$(summary_field '^flows created [0-9]+ \(live ([0-9]+)\).*')
    result[mappings_live]=$(summary_field '.*mappings created [0-9]+ \(live ([0-9]+)\).*')
    result[dropped]=$(summary_field '^verdicts: .* drop ([0-9]+), .*')
    local live=${result[flows_live]:-0}
    ((live == flows)) || bench_progress "  note: the engine held $live flows at the end, not $flows"
}

measure_flow_memory() {
    bench_progress "== flow_memory $flows"
    if ! "$BENCH_BIN_DIR/flow_memory" "$flows" >"$work/memory.txt" 2>&1; then
        bench_progress "  flow_memory failed: $(cat "$work/memory.txt")"
        return 0
    fi
    sed 's/^/  /' "$work/memory.txt" >&2
    result[bytes_per_flow]=$(sed -nE 's/^bytes per flow: +([0-9]+).*/\1/p' "$work/memory.txt")
    result[new_flow_pps]=$(sed -nE 's/^new flows per second: +([0-9]+).*/\1/p' "$work/memory.txt")
}

records() {
    bench_record setting engine flows "$flows"
    bench_record setting engine packets_per_flow "$packets_per_flow"
    bench_record figure engine - packets_per_s "packets/s per core (file I/O excluded)" none "${result[packets_per_s]:-n/a}" -
    bench_record figure engine - replay_cpu_percent "CPU the replay got, % of one core" none "${result[replay_cpu_percent]:-n/a}" -
    bench_record figure engine - flows_live "flows held at once at the end" none "${result[flows_live]:-n/a}" -
    bench_record figure engine - mappings_live "NAT mappings held" none "${result[mappings_live]:-n/a}" -
    bench_record figure engine - dropped "packets dropped" none "${result[dropped]:-n/a}" -
    bench_record figure engine - bytes_per_flow "bytes of memory per tracked flow" none "${result[bytes_per_flow]:-n/a}" -
    bench_record figure engine - new_flow_pps "first packets/s, each a new flow (flow_memory)" none "${result[new_flow_pps]:-n/a}" -
    bench_record note engine "one thread: the capture is read into memory before the timed engine loop and the output written after it (pcap_replay.cpp), so file I/O is excluded; packets/s are per second of the replay thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so a busy machine does not lower them"
}

parse_args "$@"
[[ -x $GATEWAYD ]] || { echo "no gatewayd at $GATEWAYD: build it (cmake --build build) or set GATEWAYD=..." >&2; exit 1; }
bench_require_program "$BENCH_BIN_DIR/make_flow_capture"
bench_require_program "$BENCH_BIN_DIR/flow_memory"
work=$(mktemp -d "${TMPDIR:-/tmp}/engine-bench.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
measure_replay
measure_flow_memory
records | bench_output "$output"
