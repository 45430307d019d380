#!/usr/bin/env bash
# ctest bench.smoke: `bench/run --tiny --json` must print one JSON document (nothing else on stdout)
# in which every figure of every part is a number, gatewayd's and its reference's, with their ratio.
# Sizes are tiny and the machine may be busy, so how big a figure is is never checked: only that
# each measurement ran and came out. Exit 77 (skip) without root, except under CI=true.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../tests/lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/lab/lab.sh"

bench=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ $EUID -eq 0 ]] || lab_skip "bench.smoke builds labs: it needs root"
command -v iperf3 >/dev/null || lab_skip "missing tool: iperf3"

lab_heading "bench/run --tiny --json"
document=$(mktemp "${TMPDIR:-/tmp}/bench-smoke.XXXXXX")
trap 'rm -f -- "$document"' EXIT
"$bench/run" --tiny --json >"$document" || lab_fail "bench/run --tiny --json exited with status $?"

# Each part's figures, and which columns each must have as a number.
problems=$("$LAB_PY" - "$document" <<'EOF'
import json, math, sys

COMPARED = ("gatewayd", "reference", "ratio")
EXPECTED = {
    "dataplane": {
        "tcp_mbit_s": COMPARED, "udp64_sent_pps": COMPARED, "udp64_received_pps": COMPARED,
        "udp64_loss_percent": ("gatewayd", "reference"),
        "tcp_connections_per_s": COMPARED, "tcp_connect_failures": ("gatewayd", "reference"),
    },
    "latency": {
        "rtt_median_us": COMPARED + ("difference",), "rtt_p99_us": COMPARED + ("difference",),
        "latency_loss_percent": ("gatewayd", "reference"),
    },
    "engine": {
        "packets_per_s": ("gatewayd",), "replay_cpu_percent": ("gatewayd",), "flows_live": ("gatewayd",), "mappings_live": ("gatewayd",),
        "dropped": ("gatewayd",), "bytes_per_flow": ("gatewayd",), "new_flow_pps": ("gatewayd",),
    },
    "control": {
        "add_per_s": COMPARED, "delete_per_s": COMPARED, "list_seconds": COMPARED,
        "listed": ("gatewayd", "reference"),
    },
}

def number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

with open(sys.argv[1]) as f:
    text = f.read()
try:
    document = json.loads(text)
except ValueError as e:
    print(f"stdout is not one JSON document ({e}): {text[:300]!r}")
    sys.exit(0)
parts = document.get("parts", {})
for part, figures in EXPECTED.items():
    if part not in parts:
        print(f"part {part} is missing")
        continue
    reference = parts[part].get("reference")
    by_name = {f["name"]: f for f in parts[part]["figures"]}
    for name, columns in figures.items():
        if name not in by_name:
            print(f"{part}.{name} is missing")
            continue
        for column in columns:
            key = reference if column == "reference" else column
            if key is None or not number(by_name[name].get(key)):
                print(f"{part}.{name}.{key}: not a number: {by_name[name].get(key)!r}")
    for note in parts[part].get("notes", []):
        if note.startswith("failed"):
            print(f"{part}: {note}")
EOF
)
[[ -z $problems ]] || lab_fail "bench/run --tiny --json:"$'\n'"$problems"$'\n'"$(cat "$document")"
lab_ok "every figure of dataplane, latency, engine and control is a number"
