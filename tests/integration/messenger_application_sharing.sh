#!/usr/bin/env bash
# Windows Messenger, application sharing and whiteboard (NetMeeting's T.120 stack): the sharing PC
# on the LAN maps TCP 1503 to itself over UPnP and the WAN participant connects in. A sharing
# session is a long two-way stream: 500 PDUs of 1000 bytes, each echoed back, must all arrive
# intact on the one connection, seen from the participant's real address.
# LAB_NAT=gatewayd (default) or kernel (Debian's miniupnpd as the reference IGD, to check the test).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly T120_PORT=1503 PDUS=500 PDU_SIZE=1000

lab_upnp_up
lab_heading "Messenger: application sharing, TCP $T120_PORT mapped over UPnP ($LAB_UPNP_IGD)"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
lab_bg lan t120-server "$LAB_PY" "$LAB_NET_PY" line-echo --port "$T120_PORT"
lab_wait_listen lan tcp "$T120_PORT"

# Control: the port is closed before the sharing PC asks for it.
if lab_py wan line-talk --timeout 2 "$LAB_GW_WAN_IP" "$T120_PORT" "T120 too early" 2>/dev/null; then
    lab_fail "the WAN participant connected to $LAB_GW_WAN_IP:$T120_PORT before any mapping"
fi
lab_upnp_map lan TCP "$T120_PORT" "$T120_PORT" "$(lab_upnp_messenger_desc TCP "$T120_PORT")"
entry=$(lab_upnp_py lan get "$T120_PORT" TCP) || lab_fail "GetSpecificPortMappingEntry TCP $T120_PORT: $entry"
[[ $entry == "$LAB_LAN_IP:$T120_PORT "*"'$(lab_upnp_messenger_desc TCP "$T120_PORT")'" ]] ||
    lab_fail "GetSpecificPortMappingEntry TCP $T120_PORT: $entry"
lab_ok "closed before; then mapped TCP $T120_PORT → $LAB_LAN_IP:$T120_PORT ('$(lab_upnp_messenger_desc TCP "$T120_PORT")')"

session=$(lab_py wan line-talk --timeout 5 --count "$PDUS" --size "$PDU_SIZE" "$LAB_GW_WAN_IP" "$T120_PORT" \
    "T120 MCS-Connect-Initial domain=sharing" "T120 MCS-Attach-User" "T120 ASPDU share=notepad") ||
    lab_fail "the WAN participant's sharing session with $LAB_GW_WAN_IP:$T120_PORT failed: $session"
sharer_saw=$(head -n 1 <<<"$session" | awk '{ print $1 }')
[[ ${sharer_saw%:*} == "$LAB_WAN_IP" ]] ||
    lab_fail "the sharing PC saw the participant at $sharer_saw; expected $LAB_WAN_IP"
lab_ok "the WAN participant joined: $PDUS PDUs of $PDU_SIZE B each way on one connection; the sharer saw $sharer_saw"
lab_upnp_unmap lan TCP "$T120_PORT"
lab_upnp_expect_unlisted lan TCP "$T120_PORT" "after the sharing session"
lab_ok "sharing ended: mapping deleted"
echo "PASS  Messenger application sharing works through a UPnP-mapped TCP $T120_PORT ($LAB_UPNP_IGD)"
