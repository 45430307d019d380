#!/usr/bin/env bash
# Installs everything gatewayd needs to build, run and test on Debian 12 (as root).
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config
  libnetfilter-queue-dev libmnl-dev libyaml-cpp-dev libupnp-dev libsystemd-dev libpcap-dev catch2
  # the IGD's HTTP front end: nodejs http-parser for requests, expat to vet SOAP and GENA bodies
  libhttp-parser-dev libexpat1-dev
  # the NAT's keyed hash for unpredictable replacement ports (nat/port_selection.cpp); the
  # Debian package's runtime libsodium23 comes from dpkg-shlibdeps
  libsodium-dev
  # the UPnP IGD control point toward an upstream NAT (wan.upstream_mappings: upnp; issue 19)
  libminiupnpc-dev
  # the namespace lab and its peers
  iproute2 iptables iputils-ping procps iperf3 tshark curl python3
  # UPnP clients for the IGD tests; miniupnpd-iptables is the reference IGD (LAB_NAT=kernel) and
  # bench/upnp_control_plane.sh's comparison. It ships no service unit (the miniupnpd package
  # does, and is not installed), so nothing starts outside the lab.
  miniupnpc python3-miniupnpc miniupnpd-iptables
  # the STUN server of the cascading-NAT tests (lab_up --stun runs stund inside the lab's WAN
  # namespace). Its init script starts nothing unless START_DAEMON is set in /etc/default/stun.
  stun-server
  # NAT-PMP's real client (natpmpc) for tests/integration/natpmp_*.sh
  natpmp-utils
  # a real DHCP server on the lab's WAN host and a client on the gateway
  # (tests/integration/wan_address_from_dhcp.sh); dnsmasq-base ships no service unit
  dnsmasq-base udhcpc
  # bench/soak.sh's bursts of spoofed SYNs (it falls back to python3-scapy, or goes without)
  hping3
  # crafted packets: hostile_*.sh (tests/lab/labhostile.py), the RFC checks (tests/conformance)
  python3-scapy
  # the Debian package's checks (tests/integration/package_installs_and_purges.sh): cpack comes
  # with cmake, dpkg-shlibdeps with build-essential's dpkg-dev
  lintian
  # the fuzz configuration (fuzz/, GATEWAYD_FUZZ): clang with libFuzzer and the sanitizer
  # runtimes
  clang-14 libclang-rt-14-dev
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: run as root (it calls apt-get)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"

# promtool, which checks `gatewayctl metrics` (tests/integration/gatewayctl_status_flows_mappings.sh),
# comes only inside Debian's prometheus package, whose server would start on install: take the
# one binary out of the package instead of installing it.
promtool=/usr/local/libexec/gatewayd-tests/promtool
if ! command -v promtool >/dev/null && [ ! -x "$promtool" ]; then
  scratch=$(mktemp -d)
  (cd "$scratch" && apt-get download prometheus && dpkg-deb -x prometheus_*.deb unpacked)
  install -D -m 0755 "$scratch/unpacked/usr/bin/promtool" "$promtool"
  rm -rf "$scratch"
fi
