#!/usr/bin/env bash
# Configures and builds gatewayd into build/ (RelWithDebInfo unless BUILD_TYPE says otherwise).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmake -S "$repo" -B "$repo/build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}"
cmake --build "$repo/build" -j"$(nproc)"
