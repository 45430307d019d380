#!/usr/bin/env bash
# ctest: sanitize
# A PCP MAP (RFC 6887) from the LAN host, built with scapy (tests/lab/labpcp.py), is answered field by
# field as the RFC says; the mapping it grants lets the WAN host in, and UPnP (`upnpc -l`) lists it,
# described "PCP". After a restart (the lease file) the mapping is back and still its nonce's: a MAP
# for the same internal port under another nonce is NOT_AUTHORIZED and leaves it alone (§11.2);
# lifetime 0 with the right nonce deletes it and closes the port. gatewayctl counts the answers.
# gatewayd only (LAB_NAT=gatewayd): the reference miniupnpd in lab_upnp.sh runs without PCP.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly INTERNAL=7200 SUGGESTED=42000 LIFETIME=600
readonly NONCE=0102030405060708090a0b0c OTHER_NONCE=a1a2a3a4a5a6a7a8a9aaabac
LAB_PCP_PY=$LAB_DIR/labpcp.py

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "PCP is tested against gatewayd only"
/usr/bin/python3 -c 'import scapy' 2>/dev/null || lab_skip "scapy (python3-scapy) is not installed for /usr/bin/python3"

# pcp_map NONCE LIFETIME: one MAP of UDP $INTERNAL suggesting $SUGGESTED; sets PCP_FIELDS (key=value lines).
pcp_map() {
    PCP_FIELDS=$(lab_in lan /usr/bin/python3 "$LAB_PCP_PY" map --server "$LAB_GW_LAN_IP" --protocol udp \
        --internal "$INTERNAL" --suggest "$SUGGESTED" --lifetime "$2" --nonce "$1" 2>&1) ||
        lab_fail "PCP MAP (nonce $1, lifetime $2) got no valid answer:"$'\n'"$PCP_FIELDS"$'\n'"$(lab_upnp_log | tail -20)"
}

# expect_field KEY VALUE WHAT
expect_field() {
    local got
    got=$(sed -n "s/^$1=//p" <<<"$PCP_FIELDS")
    [[ $got == "$2" ]] || lab_fail "$3: $1 is '$got', expected '$2'; the response:"$'\n'"$PCP_FIELDS"
}

# pcp_count RESULT: gatewayctl status's port_control_counts.pcp_RESULT (e.g. success, not_authorized).
pcp_count() {
    lab_ctl --json status | /usr/bin/python3 -c 'import json, sys
print(json.load(sys.stdin).get("port_control_counts", {}).get("pcp_" + sys.argv[1], 0))' "$1"
}

upnpc_lists_it() { lab_upnpc lan -l 2>&1 | grep -qE "UDP +$SUGGESTED->${LAB_LAN_IP//./\\.}:$INTERNAL +'PCP'"; }

lab_upnp_up
lab_heading "PCP MAP from the LAN host, checked from the WAN host and through UPnP"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
lab_upnp_listen lan "$INTERNAL"
lab_upnp_expect_closed lan udp "$SUGGESTED" "$INTERNAL" "before the MAP"
lab_ok "before the MAP, UDP $SUGGESTED from the WAN host reaches nothing"

pcp_map "$NONCE" "$LIFETIME"
what="MAP response"
expect_field version 2 "$what"
expect_field r 1 "$what"
expect_field opcode 1 "$what"
expect_field result_name SUCCESS "$what"
expect_field lifetime "$LIFETIME" "$what"
expect_field nonce "$NONCE" "$what"
expect_field protocol 17 "$what"
expect_field internal_port "$INTERNAL" "$what"
expect_field external_port "$SUGGESTED" "$what"
expect_field external_address "::ffff:$LAB_GW_WAN_IP" "$what"
expect_field length 60 "$what"
epoch=$(sed -n 's/^epoch=//p' <<<"$PCP_FIELDS")
((epoch < 600)) || lab_fail "$what: epoch $epoch s for a daemon started moments ago"
lab_ok "SUCCESS: nonce, protocol and internal port echoed, external $LAB_GW_WAN_IP:$SUGGESTED for $LIFETIME s, epoch $epoch"

lab_upnp_expect_open lan udp "$SUGGESTED" "$INTERNAL" "PCP mapping $SUGGESTED → $LAB_LAN_IP:$INTERNAL"
lab_ok "UDP $LAB_GW_WAN_IP:$SUGGESTED from the WAN host reached $LAB_LAN_IP:$INTERNAL"
upnpc_lists_it || lab_fail "upnpc -l does not list the PCP mapping:"$'\n'"$(lab_upnpc lan -l 2>&1)"
lab_upnp_expect_listed lan UDP "$SUGGESTED" "$LAB_LAN_IP:$INTERNAL" "GetGenericPortMappingEntry"
lab_ok "UPnP lists UDP $SUGGESTED → $LAB_LAN_IP:$INTERNAL described 'PCP'"

# The nonce is kept in the lease file: after a restart the mapping is back and still the nonce's.
lab_upnp_stop
lab_upnp_start
lab_upnp_expect_open lan udp "$SUGGESTED" "$INTERNAL" "PCP mapping after a restart"
lab_ok "after a restart the mapping is restored from the lease file and still open"
pcp_map "$OTHER_NONCE" "$LIFETIME"
expect_field result_name NOT_AUTHORIZED "MAP under another nonce"
expect_field external_port "$SUGGESTED" "MAP under another nonce (the suggestion copied back)"
lab_upnp_expect_open lan udp "$SUGGESTED" "$INTERNAL" "after the refused MAP"
lab_ok "a MAP of the same internal port under another nonce is NOT_AUTHORIZED; the mapping stays"

pcp_map "$OTHER_NONCE" 0
expect_field result_name NOT_AUTHORIZED "delete under another nonce"
pcp_map "$NONCE" 0
expect_field result_name SUCCESS "delete"
expect_field lifetime 0 "delete"
lab_upnp_expect_closed lan udp "$SUGGESTED" "$INTERNAL" "after the delete"
! upnpc_lists_it || lab_fail "upnpc -l still lists the deleted mapping:"$'\n'"$(lab_upnpc lan -l 2>&1)"
lab_ok "lifetime 0 with the right nonce deleted it (another nonce could not): closed, and gone from upnpc -l"
# Counted since the restart: the two refusals and the delete.
refused=$(pcp_count not_authorized) successes=$(pcp_count success)
((refused == 2 && successes == 1)) ||
    lab_fail "port_control_counts since the restart: pcp_not_authorized $refused, pcp_success $successes; expected 2 and 1"
lab_ok "gatewayctl status counted the 2 NOT_AUTHORIZED and the successful delete"
echo "PASS  PCP MAP from the LAN host: fields, WAN reachability, UPnP listing, nonce check, delete"
