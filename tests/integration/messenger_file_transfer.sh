#!/usr/bin/env bash
# Windows Messenger, file transfer: the receiving client on the LAN maps TCP 6891-6900 over UPnP,
# one mapping per port (as Messenger did, one per concurrent transfer), and the WAN sender
# connects to one of them and sends the file. All ten are listed, the file arrives with the same
# SHA-256 from the sender's real address, and deleting the ten leaves none.
# LAB_NAT=gatewayd (default) or kernel (Debian's miniupnpd as the reference IGD, to check the test).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly FIRST_PORT=6891 LAST_PORT=6900 TRANSFER_PORT=6893 FILE_KIB=2048

lab_upnp_up
lab_heading "Messenger: file transfer over UPnP-mapped TCP $FIRST_PORT-$LAST_PORT ($LAB_UPNP_IGD)"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
for ((port = FIRST_PORT; port <= LAST_PORT; port++)); do
    lab_upnp_map lan TCP "$port" "$port" "$(lab_upnp_messenger_desc TCP "$port")"
done
listing=$(lab_upnp_py lan list) || lab_fail "listing the mappings failed: $listing"
for ((port = FIRST_PORT; port <= LAST_PORT; port++)); do
    grep -qE "^TCP $port $LAB_LAN_IP:$port " <<<"$listing" || lab_fail "TCP $port is not among the mappings:"$'\n'"$listing"
done
(($(wc -l <<<"$listing") == LAST_PORT - FIRST_PORT + 1)) ||
    lab_fail "expected $((LAST_PORT - FIRST_PORT + 1)) mappings, the IGD lists:"$'\n'"$listing"
lab_ok "TCP $FIRST_PORT-$LAST_PORT mapped one by one; GetGenericPortMappingEntry lists exactly those ten"

head -c $((FILE_KIB * 1024)) /dev/urandom >"$LAB_TMP/holiday-photos.zip"
sent_sum=$(sha256sum "$LAB_TMP/holiday-photos.zip" | awk '{ print $1 }')
lab_bg lan file-receiver "$LAB_PY" "$LAB_NET_PY" file-recv --port "$TRANSFER_PORT" --out "$LAB_TMP/received.zip"
lab_wait_listen lan tcp "$TRANSFER_PORT"
lab_py wan file-send "$LAB_GW_WAN_IP" "$TRANSFER_PORT" "$LAB_TMP/holiday-photos.zip" ||
    lab_fail "the WAN sender could not send the file to $LAB_GW_WAN_IP:$TRANSFER_PORT"
lab_wait_log "$LAB_TMP/file-receiver.log" " " 10 || lab_fail "the LAN receiver did not finish"
read -r sender size received_sum <"$LAB_TMP/file-receiver.log"
[[ $received_sum == "$sent_sum" && $size == $((FILE_KIB * 1024)) ]] ||
    lab_fail "file transfer: sent $((FILE_KIB * 1024)) B sha256 $sent_sum, received $size B sha256 $received_sum"
[[ ${sender%:*} == "$LAB_WAN_IP" ]] || lab_fail "the LAN receiver saw the sender at $sender; expected $LAB_WAN_IP"
lab_ok "a $FILE_KIB KiB file over $LAB_GW_WAN_IP:$TRANSFER_PORT arrived intact (sha256 ${sent_sum:0:16}…) from $sender"

for ((port = FIRST_PORT; port <= LAST_PORT; port++)); do lab_upnp_unmap lan TCP "$port"; done
listing=$(lab_upnp_py lan list) || lab_fail "listing the mappings failed: $listing"
[[ -z $listing ]] || lab_fail "after deleting the ten mappings the IGD still lists:"$'\n'"$listing"
lab_ok "the ten mappings deleted; none left"
echo "PASS  Messenger file transfer works through UPnP-mapped TCP $FIRST_PORT-$LAST_PORT ($LAB_UPNP_IGD)"
