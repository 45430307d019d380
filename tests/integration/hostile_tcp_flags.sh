#!/usr/bin/env bash
# ctest: sanitize
# TCP segments with flag combinations no stack sends (SYN+FIN, SYN+RST, none, all, FIN without
# ACK, SYN+FIN+PSH+URG) aimed at a live connection's exact tuple are dropped as invalid_tcp and
# change nothing: the connection carries data afterwards through the same external port. The same
# to an unmapped port opens nothing (input policy).
# Needs python3-scapy (/usr/bin/python3); the helpers are in tests/lab/lab_hostile.sh and labhostile.py.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
# shellcheck source=SCRIPTDIR/../lab/lab_hostile.sh
source "$LAB_DIR/lab_hostile.sh"

hostile_up
lab_heading "impossible TCP flag combinations from the WAN"
hostile_send wan tcp-flags
hostile_expect_drops invalid_tcp=6 denied_by_policy=1
hostile_expect_flows_intact
echo "PASS  impossible TCP flags are dropped and counted; the connection survives"
