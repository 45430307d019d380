#!/usr/bin/env bash
# Run every integration test in this folder, one lab each, and summarise.
#   tests/integration/run_all.sh               against gatewayd (build/daemon/gatewayd or $GATEWAYD)
#   LAB_NAT=kernel tests/integration/run_all.sh  against iptables MASQUERADE (checks the tests themselves)
# Exit 0 only if nothing failed; a skipped test (exit 77) counts as a failure under CI=true, where
# the test itself already turns the skip into a failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
passed=() skipped=() failed=()

for test in "$here"/*.sh; do
    [[ $test == "${BASH_SOURCE[0]}" || ${test##*/} == run_all.sh ]] && continue
    name=${test##*/}
    rc=0
    "$test" || rc=$?
    case $rc in
    0) passed+=("$name") ;;
    77) skipped+=("$name") ;;
    *) failed+=("$name (exit $rc)") ;;
    esac
done

echo
echo "integration tests (LAB_NAT=${LAB_NAT:-gatewayd}): ${#passed[@]} passed, ${#skipped[@]} skipped, ${#failed[@]} failed"
for name in "${skipped[@]}"; do echo "  skipped  $name"; done
for name in "${failed[@]}"; do echo "  FAILED   $name"; done
((${#failed[@]} == 0))
