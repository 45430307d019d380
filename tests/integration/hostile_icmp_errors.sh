#!/usr/bin/env bash
# ctest: sanitize
# ICMP errors that name flows which do not exist or are not the sender's: from the WAN, errors
# quoting an unmapped port, a LAN address, another remote host, with a bad checksum, a quote cut
# short, or fragmented; from the LAN, an error about another LAN host's flow and one about no flow.
# A true port unreachable about the live UDP mapping is the control: it reaches the LAN host.
# The fragmented error (a first fragment alone) never reaches gatewayd since issue 18.3: the
# gateway's kernel reassembles ahead of the queue and gives the datagram up when it times out,
# so malformed_icmp_error counts only the quote cut short.
# Needs python3-scapy (/usr/bin/python3); the helpers are in tests/lab/lab_hostile.sh and labhostile.py.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
# shellcheck source=SCRIPTDIR/../lab/lab_hostile.sh
source "$LAB_DIR/lab_hostile.sh"

hostile_up
lab_heading "ICMP errors about flows that are not there"
hostile_send wan icmp-errors
hostile_send lan lan-icmp-errors
hostile_expect_drops no_mapping_for_icmp_error=4 bad_icmp_error_checksum=1 malformed_icmp_error=1 \
    icmp_error_for_other_host=1
hostile_expect_flows_intact
echo "PASS  ICMP errors about no flow or another host's flow are dropped and counted"
