#!/usr/bin/env bash
# Windows Messenger, instant messages and presence: at sign-in the client finds the IGD over UPnP
# (to learn its external address), then keeps one TCP connection to the notification server on
# the WAN side (MSNP, port 1863) for presence and messages. That needs no port mapping: the
# exchange works through the NAT alone, the server sees the gateway's WAN address, and the IGD
# lists no mapping before or after.
# LAB_NAT=gatewayd (default) or kernel (Debian's miniupnpd as the reference IGD, to check the test).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly MSNP_PORT=1863 CHAT_LINES=50 CHAT_LINE_SIZE=120

expect_no_mappings() {
    local listing
    listing=$(lab_upnp_py lan list) || lab_fail "$1: listing the mappings failed: $listing"
    [[ -z $listing ]] || lab_fail "$1: the IGD lists mappings, none was asked for:"$'\n'"$listing"
}

lab_upnp_up
lab_heading "Messenger: sign-in, presence and instant messages over TCP $MSNP_PORT ($LAB_UPNP_IGD)"
lab_upnp_discover lan || lab_fail "sign-in: no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
grep -qx "ExternalIPAddress = $LAB_UPNP_EXTERNAL_IP" <<<"$LAB_UPNP_DISCOVERY" ||
    lab_fail "sign-in: the IGD does not report the external address $LAB_UPNP_EXTERNAL_IP:"$'\n'"$LAB_UPNP_DISCOVERY"
expect_no_mappings "at sign-in"
lab_ok "sign-in: IGD found, external address $LAB_UPNP_EXTERNAL_IP, no mapping"

lab_bg wan msnp-server "$LAB_PY" "$LAB_NET_PY" line-echo --port "$MSNP_PORT"
lab_wait_listen wan tcp "$MSNP_PORT"
session=$(lab_py lan line-talk --count "$CHAT_LINES" --size "$CHAT_LINE_SIZE" "$LAB_WAN_IP" "$MSNP_PORT" \
    "VER 1 MSNP8 CVR0" "USR 2 MD5 I alice@example.com" "CHG 3 NLN 0" "ILN 4 NLN bob@example.com Bob" \
    "MSG 5 N 24 hello from behind the NAT") ||
    lab_fail "the MSNP session from the LAN host to $LAB_WAN_IP:$MSNP_PORT failed: $session"
server_saw=$(head -n 1 <<<"$session" | awk '{ print $1 }')
[[ ${server_saw%:*} == "$LAB_GW_WAN_IP" ]] ||
    lab_fail "the notification server saw the client at $server_saw; expected the gateway's $LAB_GW_WAN_IP"
grep -q "^$server_saw CHG 3 NLN 0\$" <<<"$session" || lab_fail "the presence change was not echoed:"$'\n'"$session"
lab_ok "MSNP over one TCP connection: sign-in, presence (CHG NLN), a message, then $CHAT_LINES chat lines; server saw $server_saw"
expect_no_mappings "after the session"
lab_ok "no port mapping was asked for or made"
echo "PASS  Messenger IM and presence work through the NAT without a mapping ($LAB_UPNP_IGD)"
