#!/usr/bin/env bash
# Installs everything gatewayd needs to build, run and test on Debian 12 (as root).
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config
  libnetfilter-queue-dev libmnl-dev libyaml-cpp-dev catch2
  # the namespace lab and its peers
  iproute2 iptables iputils-ping procps iperf3 tshark curl python3
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: run as root (it calls apt-get)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"
