#!/usr/bin/env bash
# ctest: sanitize
# Hostile fragments: from the WAN, into a live UDP mapping — a later fragment with no first
# fragment, an overlapping fragment (teardrop), a second first fragment, a zero-length fragment,
# one reaching past 65535 bytes (ping of death), a TCP first fragment too short for its header
# (RFC 1858) — and from the LAN, later fragments no first fragment let out. A well-formed
# fragmented datagram is the control: all of it reaches the far host (from the LAN under an
# identification of the gateway's, RFC 7857 §10). The gateway's kernel reassembles ahead of the
# queue (issue 18.3, queue_rules.hpp), so nothing of a hostile datagram passes, not even its
# first fragment, and gatewayd never sees one: the kernel drops the overlapping and empty ones at
# once (counted in IpReasmFails, gatewayctl status ip_reassembly.failed) and lets the incomplete
# ones time out (ipfrag_time, later). Until issue 18.3 the engine judged each fragment: the first
# passed, the rest were dropped as fragment_without_first, overlapping_fragment and so on, which
# the engine still does when fragments reach it (gatewayd --replay).
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
# No drop counter of the engine may grow: it never sees a fragment of these.
# shellcheck disable=SC2119
hostile_expect_drops
hostile_expect_kernel IpReasmFails=2
hostile_expect_flows_intact
echo "PASS  hostile fragments are dropped and counted; flows survive"
