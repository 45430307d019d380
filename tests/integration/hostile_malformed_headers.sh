#!/usr/bin/env bash
# ctest: sanitize
# Malformed headers from the WAN, aimed at a live UDP mapping and TCP connection: IP header
# lies (bad header checksum, total length beyond the frame or below the header, IHL below 5 or
# beyond the packet) are dropped by the gateway's kernel in ip_rcv, before NFQUEUE, so gatewayd
# never sees them: the test reads the kernel's own counters for those and checks nothing reached
# the LAN. Cut-short UDP/TCP/ICMP headers and a TCP data offset past the segment reach the queue
# and are dropped as truncated_l4_header; an RST with a bad checksum in the live connection is
# dropped as bad_tcp_checksum instead of closing it. A UDP datagram with a bad checksum in the
# mapping is passed on untouched (end-to-end checksums are the receiver's to check).
# Needs python3-scapy (/usr/bin/python3); the helpers are in tests/lab/lab_hostile.sh and labhostile.py.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
# shellcheck source=SCRIPTDIR/../lab/lab_hostile.sh
source "$LAB_DIR/lab_hostile.sh"

hostile_up
lab_heading "malformed headers from the WAN"
hostile_send wan malformed
hostile_expect_drops truncated_l4_header=4 bad_tcp_checksum=1
hostile_expect_kernel IpInHdrErrors=4 IpExtInCsumErrors=1 IpExtInTruncatedPkts=1
hostile_expect_flows_intact
echo "PASS  malformed headers are dropped and counted; flows survive"
