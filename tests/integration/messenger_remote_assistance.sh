#!/usr/bin/env bash
# Windows Messenger, Remote Assistance: the novice's PC on the LAN asks the IGD to map TCP 3389
# (RDP) to itself and sends the expert an invitation with the external address; the expert on the
# WAN side connects in, and the session runs both ways over that one connection. The novice's
# side sees the expert's real address. When the session ends the mapping is deleted and the port
# is closed again.
# LAB_NAT=gatewayd (default) or kernel (Debian's miniupnpd as the reference IGD, to check the test).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly RDP_PORT=3389 UPDATES=200 UPDATE_SIZE=400

lab_upnp_up
lab_heading "Messenger: Remote Assistance, TCP $RDP_PORT mapped over UPnP ($LAB_UPNP_IGD)"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
lab_bg lan rdp-server "$LAB_PY" "$LAB_NET_PY" line-echo --port "$RDP_PORT"
lab_wait_listen lan tcp "$RDP_PORT"

lab_upnp_map lan TCP "$RDP_PORT" "$RDP_PORT" "$(lab_upnp_messenger_desc TCP "$RDP_PORT")"
lab_upnp_expect_listed lan TCP "$RDP_PORT" "$LAB_LAN_IP:$RDP_PORT" "the Remote Assistance mapping"
lab_ok "the novice's PC mapped TCP $RDP_PORT → $LAB_LAN_IP:$RDP_PORT"

session=$(lab_py wan line-talk --timeout 5 --count "$UPDATES" --size "$UPDATE_SIZE" "$LAB_GW_WAN_IP" "$RDP_PORT" \
    "RA-CONNECT ticket=4f2c expert=bob@example.com" "RA-ACCEPT control=view") ||
    lab_fail "the expert could not hold a session with $LAB_GW_WAN_IP:$RDP_PORT: $session"
novice_saw=$(head -n 1 <<<"$session" | awk '{ print $1 }')
[[ ${novice_saw%:*} == "$LAB_WAN_IP" ]] ||
    lab_fail "the novice's PC saw the expert at $novice_saw; expected the expert's own $LAB_WAN_IP"
lab_ok "the expert connected to $LAB_GW_WAN_IP:$RDP_PORT: $UPDATES updates of $UPDATE_SIZE B echoed; the novice saw $novice_saw"

lab_upnp_unmap lan TCP "$RDP_PORT"
lab_upnp_expect_unlisted lan TCP "$RDP_PORT" "after the session"
if lab_py wan line-talk --timeout 2 "$LAB_GW_WAN_IP" "$RDP_PORT" "RA-CONNECT again" 2>/dev/null; then
    lab_fail "after DeletePortMapping the expert still connects to $LAB_GW_WAN_IP:$RDP_PORT"
fi
lab_ok "session over: the mapping is deleted and the expert can no longer connect"
echo "PASS  Messenger Remote Assistance gets in through a UPnP-mapped TCP $RDP_PORT ($LAB_UPNP_IGD)"
