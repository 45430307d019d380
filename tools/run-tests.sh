#!/usr/bin/env bash
# The whole test suite from a fresh clone, in three configurations:
#   normal    build/: dependencies, build, unit tests and the namespace-lab integration
#             tests (these need root; they never touch the host's own network namespace)
#   sanitize  build-sanitize/: everything (the daemon in the lab included) built with
#             AddressSanitizer + UBSan; runs the unit tests and the lab tests marked
#             "# ctest: sanitize" (ctest -L sanitize: the ones that parse untrusted input or
#             drive code the unit tests cannot reach); any report fails its test
#   fuzz      build-fuzz/: the libFuzzer harnesses (clang-14), a few seconds each over
#             their seed corpora (ctest -L fuzz)
# Ends with one summary line per configuration; exits non-zero if any failed.
#
# RUN_TESTS_CONFIGS="normal sanitize fuzz" chooses configurations (default: all three).
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
configs=${RUN_TESTS_CONFIGS:-normal sanitize fuzz}
jobs=$(nproc)
summary=()
failed=0

set -e
"$repo/tools/install-deps.sh"
set +e

# record NAME LOG STATUS SECONDS: a summary line with the line ctest ended with.
record() {
    local name=$1 log=$2 status=$3 seconds=$4 line
    line=$(grep -E '^[0-9]+% tests passed' "$log" | tail -1)
    [[ -n $line ]] || line="did not get to ctest (see above)"
    if ((status == 0)); then
        summary+=("$name: PASS: $line (${seconds}s)")
    else
        summary+=("$name: FAIL: $line (${seconds}s)")
        failed=1
    fi
}

run_config() {
    local name=$1 start=$SECONDS log status
    log=$(mktemp)
    echo "==== $name"
    case $name in
    normal)
        { "$repo/tools/build.sh" && (cd "$repo/build" && ctest --output-on-failure --timeout 300); } 2>&1 | tee "$log"
        status=${PIPESTATUS[0]}
        ;;
    sanitize)
        # halt_on_error/abort: the first report ends the process, so the test fails;
        # detect_leaks: at exit (SIGTERM in the lab); the lab reads the daemon's log for reports.
        {
            cmake -S "$repo" -B "$repo/build-sanitize" -DGATEWAYD_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
                cmake --build "$repo/build-sanitize" -j"$jobs" &&
                (cd "$repo/build-sanitize" &&
                    ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1 \
                    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
                    ctest --output-on-failure --timeout 400 -L sanitize)
        } 2>&1 | tee "$log"
        status=${PIPESTATUS[0]}
        ;;
    fuzz)
        {
            CC=clang-14 CXX=clang++-14 cmake -S "$repo" -B "$repo/build-fuzz" -DGATEWAYD_FUZZ=ON \
                -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
                cmake --build "$repo/build-fuzz" -j"$jobs" --target fuzzers &&
                (cd "$repo/build-fuzz" && ctest --output-on-failure -L fuzz)
        } 2>&1 | tee "$log"
        status=${PIPESTATUS[0]}
        ;;
    *) echo "run-tests.sh: unknown configuration '$name'" >&2; status=2 ;;
    esac
    record "$name" "$log" "$status" $((SECONDS - start))
    rm -f "$log"
}

for config in $configs; do run_config "$config"; done

echo "==== summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
