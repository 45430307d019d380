#!/usr/bin/env bash
# The whole test suite from a fresh clone: dependencies, build, unit tests and the
# namespace-lab integration tests (these need root; they never touch the host's own
# network namespace). Ends with ctest's summary line.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$repo/tools/install-deps.sh"
"$repo/tools/build.sh"
cd "$repo/build"
ctest --output-on-failure --timeout 300
