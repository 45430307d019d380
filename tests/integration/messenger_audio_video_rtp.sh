#!/usr/bin/env bash
# Windows Messenger, audio and video: the LAN client asks the IGD for UDP mappings in 5004-65535
# (its RTP ports, audio and video), sends its external address:port to the WAN peer (signalling,
# not modelled), and both ends stream RTP. The WAN peer sends first, so its packets can only get
# in through the UPnP mapping; the LAN client answers to where they came from. Each stream is 100
# packets each way (audio: 172 bytes, a 20 ms G.711 frame; video: 1200 bytes every 10 ms), every
# one must arrive with its sequence number, and the WAN peer must see the mapped port as source.
# LAB_NAT=gatewayd (default) or kernel (Debian's miniupnpd as the reference IGD, to check the test).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly PACKETS=100

# stream NAME LAN-PORT WAN-PORT SIZE INTERVAL: one RTP stream both ways through the UDP mapping
# LAN-PORT (external = internal, as Messenger asked).
stream() {
    local name=$1 port=$2 peer_port=$3 size=$4 interval=$5 wan_result lan_result expected
    lab_upnp_map lan UDP "$port" "$port" "$(lab_upnp_messenger_desc UDP "$port")"
    lab_upnp_expect_listed lan UDP "$port" "$LAB_LAN_IP:$port" "$name mapping"
    lab_bg lan "rtp-$name" "$LAB_PY" "$LAB_NET_PY" rtp-peer --port "$port" --peer "$LAB_WAN_IP:$peer_port" \
        --count "$PACKETS" --size "$size" --interval "$interval" --wait-for-peer
    lab_wait_log "$LAB_TMP/rtp-$name.log" "bound" || lab_fail "$name: the LAN client's RTP socket did not start"
    wan_result=$(lab_py wan rtp-peer --port "$peer_port" --peer "$LAB_GW_WAN_IP:$port" \
        --count "$PACKETS" --size "$size" --interval "$interval" | tail -n 1)
    lab_wait_log "$LAB_TMP/rtp-$name.log" "sent=" 15 || lab_fail "$name: the LAN client's RTP peer did not finish"
    lan_result=$(tail -n 1 "$LAB_TMP/rtp-$name.log")
    expected="sent=$PACKETS received=$PACKETS from=$LAB_GW_WAN_IP:$port bad_size=0 missing_seq=0"
    [[ $wan_result == "$expected" ]] ||
        lab_fail "$name, LAN → WAN: the WAN peer got: $wan_result; expected: $expected (the LAN client: $lan_result)"
    expected="sent=$PACKETS received=$PACKETS from=$LAB_WAN_IP:$peer_port bad_size=0 missing_seq=0"
    [[ $lan_result == "$expected" ]] ||
        lab_fail "$name, WAN → LAN: the LAN client got: $lan_result; expected: $expected (the WAN peer: $wan_result)"
    lab_ok "$name: UDP $port mapped; $PACKETS × $size B each way, all in sequence; the WAN peer saw $LAB_GW_WAN_IP:$port"
}

lab_upnp_up
lab_heading "Messenger: audio and video (RTP over UPnP-mapped UDP ports) ($LAB_UPNP_IGD)"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
stream audio 5004 7078 172 0.02
stream video 5006 9078 1200 0.01
lab_upnp_unmap lan UDP 5004
lab_upnp_unmap lan UDP 5006
lab_upnp_expect_unlisted lan UDP 5004 "after the call"
lab_upnp_expect_unlisted lan UDP 5006 "after the call"
lab_ok "call ended: both mappings deleted"
echo "PASS  Messenger audio and video stream both ways through UPnP UDP mappings ($LAB_UPNP_IGD)"
