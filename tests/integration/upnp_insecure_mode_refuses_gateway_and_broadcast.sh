#!/usr/bin/env bash
# ctest: sanitize
# With upnp.secure_mode false a LAN client may map to another LAN host, but never to the gateway
# itself, the LAN's network address or its broadcast address (issue 14): AddPortMapping with
# NewInternalClient = each of those is refused (606), counted under upnp_refusals.internal_client_*,
# and the WAN host cannot reach the gateway's own SSDP through it. LAN host 1 mapping a port to LAN
# host 2 (allowed outside secure mode) still works and is reached from the WAN host.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly PORT=44100 LEGIT_PORT=44101
[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "miniupnpd, the reference, maps to the router itself outside secure mode"

# refused CLIENT KEY PROTO EXT INT WHAT
refused() {
    local before out
    before=$(lab_upnp_count "internal_client_$2")
    if out=$(lab_upnp_py lan add "$4" "$3" "$5" --client "$1" --lease 600 2>&1); then
        lab_fail "$6: AddPortMapping $3 $4 to $1 was granted"
    fi
    lab_ok "$6: refused ($out)"
    lab_upnp_expect_counted "internal_client_$2" "$before" "$6"
}

lab_upnp_up --insecure --lan-hosts 2
lab_heading "secure_mode false: no mapping to the gateway, the network or the broadcast address"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
refused "$LAB_GW_LAN_IP" gateway UDP 1900 1900 "the gateway's own SSDP"
refused "$LAB_GW_LAN_IP" gateway TCP "$PORT" "$LAB_UPNP_HTTP_PORT" "the gateway's own IGD"
refused 192.168.50.0 network UDP "$PORT" "$PORT" "the LAN's network address"
refused 192.168.50.255 broadcast UDP "$PORT" "$PORT" "the LAN's broadcast address"
lab_upnp_expect_unlisted lan UDP 1900 "after the refusals"
lab_upnp_expect_unlisted lan UDP "$PORT" "after the refusals"

lab_heading "another LAN host is still a fine internal client outside secure mode"
lab_upnp_listen lan2 "$LEGIT_PORT"
lab_upnp_map_to() { lab_upnp_py lan add "$LEGIT_PORT" UDP "$LEGIT_PORT" --client "$(lab_lan_ip 2)" --lease 600; }
out=$(lab_upnp_map_to 2>&1) || lab_fail "LAN host 1 mapping UDP $LEGIT_PORT to LAN host 2 was refused: $out"
lab_upnp_expect_open lan2 udp "$LEGIT_PORT" "$LEGIT_PORT" "the mapping to LAN host 2"
lab_ok "UDP $LEGIT_PORT → $(lab_lan_ip 2) granted and reached from the WAN host"
echo "PASS  outside secure mode UPnP still refuses the gateway, network and broadcast addresses"
