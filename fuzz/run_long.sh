#!/usr/bin/env bash
# Longer fuzzing runs than the ctest smoke: each harness for M minutes (default 10),
# one after the other, over its committed seed corpus plus a growing work corpus in
# build-fuzz/fuzz/corpus/<harness>. Prints the executions each run made (libFuzzer's
# final stats) and every crash, leak or timeout file it left.
#
#   fuzz/run_long.sh [--minutes M] [--jobs N] [harness...]     (default: all seven)
#
# Builds build-fuzz first (clang-14) if it is missing. Exits 1 when any run found something.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_FUZZ_DIR:-$repo/build-fuzz}
minutes=10
harnesses=()
while (($#)); do
    case $1 in
        --minutes) minutes=${2:?--minutes needs a number}; shift 2 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        -*) echo "run_long.sh: unknown option $1" >&2; exit 2 ;;
        *) harnesses+=("$1"); shift ;;
    esac
done
((${#harnesses[@]})) || harnesses=(packet_engine soap_actions config_loader lease_file pcp_request natpmp http_front_end)

if [[ ! -f $build/CMakeCache.txt ]]; then
    CC=${CC:-clang-14} CXX=${CXX:-clang++-14} cmake -S "$repo" -B "$build" -DGATEWAYD_FUZZ=ON \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target "${harnesses[@]/%/_fuzzer}" >/dev/null

found=0
summary=()
for harness in "${harnesses[@]}"; do
    work=$build/fuzz/corpus/$harness
    artifacts=$build/fuzz/artifacts/$harness
    log=$build/fuzz/$harness.long.log
    mkdir -p "$work" "$artifacts"
    dict=()
    [[ -f $repo/fuzz/$harness.dict ]] && dict=(-dict="$repo/fuzz/$harness.dict")
    before=$(find "$artifacts" -type f | wc -l)
    echo "== $harness: $minutes min (log $log)"
    status=0
    "$build/fuzz/${harness}_fuzzer" -max_total_time=$((minutes * 60)) -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" "$work" "$repo/fuzz/corpus/$harness" \
        >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    new=$(( $(find "$artifacts" -type f | wc -l) - before ))
    line="$harness: ${runs:-?} executions (${rate:-?}/s), ${cov:-cov: ?}, corpus $(find "$work" -type f | wc -l) files"
    if ((status != 0 || new > 0)); then
        found=1
        line+=", FOUND: exit $status, $new new file(s)"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|.*invariant broken)' "$log" | head -5 | sed 's/^/    /'
    fi
    summary+=("$line")
done

echo "== summary"
printf '%s\n' "${summary[@]}"
crashes=$(find "$build/fuzz/artifacts" -type f 2>/dev/null | sort)
if [[ -n $crashes ]]; then
    echo "== crash/leak/timeout files (reproduce: build-fuzz/fuzz/<harness>_fuzzer FILE)"
    echo "$crashes"
fi
exit "$found"
