#!/usr/bin/env bash
# UPnP IGD control plane in the lab, gatewayd against Debian's miniupnpd (miniupnpd-iptables, the
# IGD most Linux routers ship) measured in the same run on the same machine, so the ratio means
# something even where the absolute figures (veth, one client, one core) do not.
#
#   bench/upnp_control_plane.sh [--count N] [--igds gatewayd,miniupnpd] [--json | --tsv]
#
# Per IGD, from the LAN host with python3-miniupnpc (one HTTP connection per SOAP call, as the
# library does): N AddPortMapping calls (TCP, distinct ports), one GetGenericPortMappingEntry walk
# over the N mappings (index 0 up to the 713 error), N DeletePortMapping calls. Printed: adds/s,
# deletes/s and the seconds the walk takes, with the ratio gatewayd/miniupnpd.
# miniupnpd runs in a lab of its own (tests/lab/lab_upnp.sh, LAB_NAT=kernel): kernel NAT through
# iptables-legacy inside the gateway namespace, and a public-looking address first on its
# namespaced wan0, because miniupnpd refuses to map on a reserved WAN address such as 203.0.113.1.
# Figures only, no pass/fail. Progress goes to stderr, so that with --json stdout holds only JSON
# (--tsv: bench/figures.py's records, for bench/run).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../tests/lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/lab/lab.sh"
# shellcheck source=SCRIPTDIR/bench_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

count=1000
igds=(gatewayd miniupnpd)
output=table
declare -A result # "<igd>.<metric>" -> figure, absent when the measurement failed

parse_args() {
    while (($#)); do
        case $1 in
        --count | -n) count=${2:?--count needs a number}; shift 2 ;;
        --igds) IFS=, read -r -a igds <<<"${2:?--igds needs a list}"; shift 2 ;;
        --json) output=json; shift ;;
        --tsv) output=tsv; shift ;;
        -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
        esac
    done
    if [[ ! $count =~ ^[1-9][0-9]*$ ]] || ((count > 40000)); then
        echo "--count must be 1 to 40000" >&2
        exit 2
    fi
}

# gatewayd_limit_keys: raise gatewayd's per-client and total mapping limits to the count, for the
# keys its schema has (docs/configuration.md is generated from it), so the bench measures speed
# and not a refusal at the 129th mapping.
gatewayd_limit_keys() {
    local key docs=$LAB_REPO/docs/configuration.md
    for key in per_client_limit max_mappings; do
        if grep -q "\`upnp\.$key\`" "$docs" 2>/dev/null; then
            echo "--upnp-key"
            echo "$key=$((count > 1024 ? count : 1024))"
        fi
    done
}

# measure_igd IGD: runs in a subshell of its own (its lab's traps and failures stay there) and
# appends "IGD.METRIC=VALUE" lines to $figures.
measure_igd() {
    local igd=$1 nat=gatewayd json args=()
    bench_progress "== $igd: $count AddPortMapping, a GetGenericPortMappingEntry walk, $count DeletePortMapping"
    [[ $igd == miniupnpd ]] && nat=kernel
    [[ $igd == gatewayd ]] && mapfile -t args < <(gatewayd_limit_keys)
    LAB_NAT=$nat lab_upnp_up "${args[@]}"
    lab_upnp_discover lan || { bench_progress "  no IGD found by upnpc -l: $LAB_UPNP_DISCOVERY"; return 1; }
    json=$(lab_upnp_py lan bench --count "$count" --first-port 20000 --lease 3600 | tail -n 1) || true
    [[ $json == "{"* ]] || { bench_progress "  failed: $json"; return 1; }
    bench_progress "  $json"
    local add delete list listed
    add=$(lab_json add_seconds <<<"$json")
    delete=$(lab_json delete_seconds <<<"$json")
    list=$(lab_json list_seconds <<<"$json")
    listed=$(lab_json listed <<<"$json")
    {
        awk -v i="$igd" -v n="$count" -v s="$add" 'BEGIN { printf "%s.add_per_s=%.0f\n", i, n / s }'
        awk -v i="$igd" -v n="$count" -v s="$delete" 'BEGIN { printf "%s.delete_per_s=%.0f\n", i, n / s }'
        awk -v i="$igd" -v s="$list" 'BEGIN { printf "%s.list_seconds=%.3f\n", i, s }'
        echo "$igd.listed=$listed"
    } >>"$figures"
    ((listed == count)) || bench_progress "  note: the walk listed $listed mappings, not $count"
    lab_down
}

readonly METRICS=(add_per_s delete_per_s list_seconds listed)
declare -A LABELS
LABELS=(
    [add_per_s]="AddPortMapping/s"
    [delete_per_s]="DeletePortMapping/s"
    [list_seconds]="list all (GetGeneric...), s"
    [listed]="mappings listed by the walk"
)

# records: the figures for bench/figures.py (table, JSON) or bench/run (tsv).
records() {
    local metric compare
    bench_record setting control mappings "$count"
    for metric in "${METRICS[@]}"; do
        compare=ratio
        [[ $metric == listed ]] && compare=none
        bench_record figure control miniupnpd "$metric" "${LABELS[$metric]}" "$compare" \
            "${result[gatewayd.$metric]:-n/a}" "${result[miniupnpd.$metric]:-n/a}"
    done
    bench_record note control "rates: higher is faster; list time: lower is faster"
}

parse_args "$@"
for igd in "${igds[@]}"; do
    case $igd in
    gatewayd) [[ -x $GATEWAYD ]] || { echo "no gatewayd at $GATEWAYD: build it, or use --igds miniupnpd" >&2; exit 1; } ;;
    miniupnpd) [[ -x $LAB_MINIUPNPD ]] || { echo "no miniupnpd at $LAB_MINIUPNPD: apt-get install miniupnpd-iptables" >&2; exit 1; } ;;
    *) echo "unknown IGD '$igd' (gatewayd or miniupnpd)" >&2; exit 2 ;;
    esac
done
figures=$(mktemp "${TMPDIR:-/tmp}/upnp-bench.XXXXXX")
trap 'rm -f -- "$figures"' EXIT
for igd in "${igds[@]}"; do
    (measure_igd "$igd") || bench_progress "  $igd: no figures"
done
while IFS='=' read -r key value; do result[$key]=$value; done <"$figures"
records | bench_output "$output"
# Benchmarks print figures; they never assert timings (CI runs tests, not these).
