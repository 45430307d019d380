#!/usr/bin/env bash
# From a fresh Debian 12 machine to gatewayd translating real traffic: installs the
# dependencies, builds, and runs the lab demo (LAN host -> gatewayd -> WAN host, in
# network namespaces that are removed afterwards).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$repo/tools/install-deps.sh"
"$repo/tools/build.sh"
"$repo/tools/demo.sh"
