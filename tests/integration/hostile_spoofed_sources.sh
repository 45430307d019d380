#!/usr/bin/env bash
# ctest: sanitize
# Spoofed sources and packets for the gateway's own addresses: from the WAN, sources that are the
# LAN's, loopback, the gateway's own WAN address, multicast or 0/8 (martian_wan_source), packets
# for the LAN host's or the gateway's LAN address (not_addressed_to_gateway) and for an unmapped
# port of the WAN address (input policy); from the LAN, sources outside the LAN networks towards the
# WAN host, the gateway's LAN address (input hook) and its WAN address (hairpin hook), all
# spoofed_lan_source, and a cut-short TCP header for the gateway (truncated_l4_header). None
# reaches the far host.
# Needs python3-scapy (/usr/bin/python3); the helpers are in tests/lab/lab_hostile.sh and labhostile.py.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
# shellcheck source=SCRIPTDIR/../lab/lab_hostile.sh
source "$LAB_DIR/lab_hostile.sh"

hostile_up
lab_heading "spoofed sources from both sides"
hostile_send wan wan-spoofing
hostile_send lan lan-spoofing
hostile_expect_drops martian_wan_source=5 not_addressed_to_gateway=2 denied_by_policy=1 spoofed_lan_source=4 \
    truncated_l4_header=1
hostile_expect_flows_intact
echo "PASS  spoofed sources are dropped and counted; flows survive"
