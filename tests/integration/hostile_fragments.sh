#!/usr/bin/env bash
# ctest: sanitize
# Hostile fragments: from the WAN, into a live UDP mapping — a later fragment with no first
# fragment, an overlapping fragment (teardrop), a second first fragment, a zero-length fragment,
# one reaching past 65535 bytes (ping of death), a TCP first fragment too short for its header
# (RFC 1858) — and from the LAN, later fragments no first fragment let out. A well-formed
# fragmented datagram is the control: all of it reaches the LAN host, as does the (well-formed)
# first fragment of each hostile datagram; nothing after it does.
# Needs python3-scapy (/usr/bin/python3); the helpers are in tests/lab/lab_hostile.sh and labhostile.py.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
# shellcheck source=SCRIPTDIR/../lab/lab_hostile.sh
source "$LAB_DIR/lab_hostile.sh"

hostile_up
lab_heading "hostile fragments from both sides"
hostile_send wan fragments
hostile_send lan lan-fragments
hostile_expect_drops fragment_without_first=4 overlapping_fragment=2 empty_fragment=1 oversized_fragment=1 \
    tiny_first_fragment=1
hostile_expect_flows_intact
echo "PASS  hostile fragments are dropped and counted; flows survive"
