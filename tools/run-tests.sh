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
# Each configuration's build overlaps the previous one's tests (see below).
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

build_config() {
    case $1 in
    normal) "$repo/tools/build.sh" ;;
    sanitize)
        cmake -S "$repo" -B "$repo/build-sanitize" -DGATEWAYD_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
            cmake --build "$repo/build-sanitize" -j"$jobs"
        ;;
    fuzz)
        CC=clang-14 CXX=clang++-14 cmake -S "$repo" -B "$repo/build-fuzz" -DGATEWAYD_FUZZ=ON \
            -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
            cmake --build "$repo/build-fuzz" -j"$jobs" --target fuzzers
        ;;
    *) echo "run-tests.sh: unknown configuration '$1'" >&2; return 2 ;;
    esac
}

test_config() {
    case $1 in
    normal) (cd "$repo/build" && ctest --output-on-failure --timeout 300) ;;
    sanitize)
        # halt_on_error/abort: the first report ends the process, so the test fails;
        # detect_leaks: at exit (SIGTERM in the lab); the lab reads the daemon's log for reports.
        # tools/asan.supp: what a Debian library's own code trips under strict_string_checks.
        (cd "$repo/build-sanitize" &&
            ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1:suppressions=$repo/tools/asan.supp \
            UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            ctest --output-on-failure --timeout 400 -L sanitize)
        ;;
    fuzz) (cd "$repo/build-fuzz" && ctest --output-on-failure -L fuzz) ;;
    esac
}

# The next configuration compiles while this one's tests run: the lab tests mostly wait
# (daemon start-up, leases, timeouts), so two cores have room for it. The build runs at
# nice 19, so the tests' processes win the CPU whenever they want it, and its output is
# printed once it is done. RUN_TESTS_OVERLAP=0 builds each configuration just before
# its tests, as before.
overlap=${RUN_TESTS_OVERLAP:-1}
read -r -a order <<<"$configs"
declare -A build_log build_pid
start_build() {  # in the background, its output to a file
    local name=$1
    build_log[$name]=$(mktemp)
    (nice -n 19 bash -c "$(declare -f build_config); repo='$repo' jobs='$jobs' build_config $name") \
        >"${build_log[$name]}" 2>&1 &
    build_pid[$name]=$!
}
finish_build() {  # waits for a background build, prints its output, returns its status
    local name=$1 status
    wait "${build_pid[$name]}"
    status=$?
    echo "---- $name build (ran in the background)"
    cat "${build_log[$name]}"
    rm -f "${build_log[$name]}"
    return "$status"
}

exec 3>&1 4>&2
for ((i = 0; i < ${#order[@]}; i++)); do
    name=${order[i]}
    start=$SECONDS
    log=$(mktemp)
    exec > >(tee "$log") 2>&1
    tee_pid=$!
    echo "==== $name"
    if [[ -n ${build_pid[$name]:-} ]]; then
        finish_build "$name"
    else
        build_config "$name"
    fi
    status=$?
    next=${order[i + 1]:-}
    if ((overlap)) && [[ -n $next ]]; then start_build "$next"; fi
    if ((status == 0)); then
        test_config "$name"
        status=$?
    fi
    exec >&3 2>&4
    wait "$tee_pid"
    record "$name" "$log" "$status" $((SECONDS - start))
    rm -f "$log"
done

echo "==== summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
