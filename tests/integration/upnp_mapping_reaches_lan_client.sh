#!/usr/bin/env bash
# A UDP and a TCP port mapping the LAN host asked for over UPnP open the gateway's WAN address:
# what the WAN host sends to 203.0.113.1:EXT reaches the LAN host's listener on the internal port,
# from the WAN host's own address (no source translation inbound). Before the mapping, the same
# probes are dropped like any unsolicited inbound packet.
# LAB_NAT=gatewayd (default) or kernel (Debian's miniupnpd as the reference IGD, to check the test).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

# External and internal ports differ, so a mapping that ignored NewInternalPort would be caught.
readonly UDP_EXTERNAL=41000 UDP_INTERNAL=7100 TCP_EXTERNAL=41001 TCP_INTERNAL=7101

map() {
    local out
    out=$(lab_upnpc lan -e "reach-$1" -a "$LAB_LAN_IP" "$3" "$2" "$1" 3600 2>&1) ||
        lab_fail "upnpc -a $1 $2 → $LAB_LAN_IP:$3 failed:"$'\n'"$out"
    grep -q "is redirected to internal $LAB_LAN_IP:$3" <<<"$out" || lab_fail "upnpc -a $1 $2: not confirmed:"$'\n'"$out"
}

lab_upnp_up
lab_heading "UPnP mappings open the WAN address to the LAN host ($LAB_UPNP_IGD)"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
# The listener on the internal port; the same port external and internal would hide a mix-up.
lab_upnp_listen lan "$UDP_INTERNAL"
lab_upnp_listen lan "$TCP_INTERNAL"

# Control: nothing is open before the mappings exist.
lab_upnp_expect_closed lan udp "$UDP_EXTERNAL" "$UDP_INTERNAL" "before any mapping"
lab_upnp_expect_closed lan tcp "$TCP_EXTERNAL" "$TCP_INTERNAL" "before any mapping"
lab_ok "before the mappings, UDP $UDP_EXTERNAL and TCP $TCP_EXTERNAL from the WAN host reach nothing"

map UDP "$UDP_EXTERNAL" "$UDP_INTERNAL"
map TCP "$TCP_EXTERNAL" "$TCP_INTERNAL"
lab_upnp_expect_open lan udp "$UDP_EXTERNAL" "$UDP_INTERNAL" "UDP mapping $UDP_EXTERNAL → $LAB_LAN_IP:$UDP_INTERNAL"
lab_ok "UDP $LAB_GW_WAN_IP:$UDP_EXTERNAL from the WAN host reached $LAB_LAN_IP:$UDP_INTERNAL, sender $LAB_WAN_IP"
lab_upnp_expect_open lan tcp "$TCP_EXTERNAL" "$TCP_INTERNAL" "TCP mapping $TCP_EXTERNAL → $LAB_LAN_IP:$TCP_INTERNAL"
lab_ok "TCP $LAB_GW_WAN_IP:$TCP_EXTERNAL from the WAN host connected to $LAB_LAN_IP:$TCP_INTERNAL, sender $LAB_WAN_IP"
# Each mapping is for its own protocol only.
lab_upnp_expect_closed lan tcp "$UDP_EXTERNAL" "$UDP_INTERNAL" "TCP to the UDP mapping's port"
lab_upnp_expect_closed lan udp "$TCP_EXTERNAL" "$TCP_INTERNAL" "UDP to the TCP mapping's port"
lab_ok "TCP to the UDP mapping's port and UDP to the TCP one reach nothing"
echo "PASS  UPnP UDP and TCP mappings let the WAN host reach the LAN client ($LAB_UPNP_IGD)"
