#!/usr/bin/env bash
# Cascading NAT with wan.cascade_mappings: refuse: behind the ISP's NAT (lab_up --upstream-nat,
# a CGNAT WAN address, no STUN needed to know), an AddPortMapping is refused with UPnP 501
# ActionFailed and counted; status says grants are refused and why.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "gatewayd's WAN classification, STUN and status are tested here; LAB_NAT=${LAB_NAT:-}"

lab_heading "gatewayd behind the ISP's NAT with wan.cascade_mappings: refuse"
lab_upnp_up --upstream-nat --wan-key cascade_mappings=refuse
before=$(lab_upnp_refusals soap_501_action_failed)
if out=$(lab_upnp_py lan add 40080 TCP 8080 --desc refused-behind-cgnat); then
    lab_fail "AddPortMapping was granted behind the ISP's NAT with cascade_mappings refuse: $out"
fi
grep -Eq "Action ?Failed|501" <<<"$out" || lab_fail "AddPortMapping was refused, but not with 501 ActionFailed: $out"
lab_ok "AddPortMapping refused: $out"
lab_upnp_expect_counted soap_501_action_failed "$before" "the refusal"

status=$(lab_ctl --json status)
"$LAB_PY" -c 'import json, sys
w = json.loads(sys.argv[1])["wan"]
sys.exit(0 if w["cascade"] == "yes" and w["mapping_grants"] == "refused" and w["stun"] == "not configured" else 1)' "$status" ||
    lab_fail "status wan does not say cascade yes, grants refused:"$'\n'"$status"
grep -qF "so they are refused (wan.cascade_mappings: refuse)" "$LAB_DAEMON_LOG" ||
    lab_fail "the log does not say mappings are refused"
lab_ok "status: cascade yes, mapping grants refused; the log says why"
