#!/usr/bin/env bash
# What the benchmark scripts share: where the bench programs are, progress on stderr, and the
# figure records that bench/figures.py lays out as a table or JSON (its header says the format).
# Sourced after tests/lab/lab.sh (for LAB_REPO, LAB_PY and lab_json).
# No WAN watcher (tests/lab/lab_wan_watch.sh) beside a measurement: its capture costs CPU.
# shellcheck disable=SC2034 # read by lab_wan_watch.sh
LAB_WAN_WATCH=${LAB_WAN_WATCH:-off}

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The build directory of bench/CMakeLists.txt: beside gatewayd's, unless told.
BENCH_BIN_DIR=${BENCH_BIN_DIR:-$(cd "$(dirname "$GATEWAYD")/.." 2>/dev/null && pwd)/bench}
LAB_PROBE=${LAB_PROBE:-$BENCH_BIN_DIR/lab_probe}

bench_progress() { printf '%s\n' "$*" >&2; }

# bench_record FIELD...: one tab-separated record (figure, setting or note; see figures.py).
bench_record() {
    local IFS=$'\t'
    printf '%s\n' "$*"
}

# bench_output table|json|tsv: the records on stdin, laid out (tsv: as they are, for bench/run).
bench_output() {
    if [[ $1 == tsv ]]; then
        cat
    else
        "$LAB_PY" "$BENCH_DIR/figures.py" "$1"
    fi
}

# bench_json_figure KEY.KEY... < JSON: the number there, or n/a when it is null or missing.
bench_json_figure() {
    local value
    value=$(lab_json "$@" 2>/dev/null) || value=n/a
    [[ $value =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]] || value=n/a
    echo "$value"
}

# bench_require_program PATH: the bench programs are built with the rest (cmake --build build).
bench_require_program() {
    [[ -x $1 ]] || {
        echo "no $(basename "$1") at $1: build it (cmake --build build --target $(basename "$1")) or set BENCH_BIN_DIR" >&2
        exit 1
    }
}
