#!/usr/bin/env bash
# A LAN host finds the gateway's UPnP IGD the way applications do: `upnpc -l` (miniupnpc's client)
# and python3-miniupnpc's discover() + selectigd(). The device answers SSDP from its LAN address,
# serves a root description naming InternetGatewayDevice:1 and WANIPConnection:1, and reports the
# gateway's WAN address as the external one.
# LAB_NAT=gatewayd (default) or kernel (Debian's miniupnpd as the reference IGD, to check the test).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

check_upnpc_discovers() {
    lab_upnp_discover lan || lab_fail "upnpc -i -l on the LAN host found no UPnP device:"$'\n'"$LAB_UPNP_DISCOVERY"
    [[ $LAB_UPNP_URL == "http://$LAB_GW_LAN_IP:$LAB_UPNP_HTTP_PORT/"* ]] ||
        lab_fail "the IGD's root description is at $LAB_UPNP_URL; expected http://$LAB_GW_LAN_IP:$LAB_UPNP_HTTP_PORT/..."
    # miniupnpc calls an IGD whose external address is reserved (the lab's 203.0.113.1, TEST-NET-3)
    # "not connected?" and goes on with it; that the IGD says Connected is checked below.
    grep -qE "^Found (valid IGD|a \(not connected\?\) IGD) : http://$LAB_GW_LAN_IP:$LAB_UPNP_HTTP_PORT/" <<<"$LAB_UPNP_DISCOVERY" ||
        lab_fail "upnpc found a device but no IGD with a WANIPConnection service:"$'\n'"$LAB_UPNP_DISCOVERY"
    grep -qx "ExternalIPAddress = $LAB_UPNP_EXTERNAL_IP" <<<"$LAB_UPNP_DISCOVERY" ||
        lab_fail "upnpc: expected ExternalIPAddress = $LAB_UPNP_EXTERNAL_IP:"$'\n'"$LAB_UPNP_DISCOVERY"
    lab_ok "upnpc -l: IGD at $LAB_UPNP_URL, external address $LAB_UPNP_EXTERNAL_IP"
}

check_root_description() {
    local description
    description=$(lab_upnp_root_desc lan) || lab_fail "GET $LAB_UPNP_URL from the LAN host failed"
    grep -q 'urn:schemas-upnp-org:device:InternetGatewayDevice:1' <<<"$description" ||
        lab_fail "the root description names no InternetGatewayDevice:1:"$'\n'"$description"
    grep -q 'urn:schemas-upnp-org:service:WANIPConnection:1' <<<"$description" ||
        lab_fail "the root description names no WANIPConnection:1:"$'\n'"$description"
    lab_ok "root description: InternetGatewayDevice:1 with WANIPConnection:1"
}

check_python_discovers() {
    local found
    found=$(lab_upnp_py_discover lan) ||
        lab_fail "python3-miniupnpc discover() + selectigd() on the LAN host failed:"$'\n'"$found"
    grep -qx "control_url=http://$LAB_GW_LAN_IP:$LAB_UPNP_HTTP_PORT/.*" <<<"$found" ||
        lab_fail "python3-miniupnpc selected an IGD outside $LAB_GW_LAN_IP:$LAB_UPNP_HTTP_PORT:"$'\n'"$found"
    grep -qx "lan_address=$LAB_LAN_IP" <<<"$found" ||
        lab_fail "python3-miniupnpc: expected lan_address=$LAB_LAN_IP:"$'\n'"$found"
    grep -qx "external_ip=$LAB_UPNP_EXTERNAL_IP" <<<"$found" ||
        lab_fail "python3-miniupnpc: expected external_ip=$LAB_UPNP_EXTERNAL_IP:"$'\n'"$found"
    grep -q "^status=Connected " <<<"$found" || lab_fail "python3-miniupnpc: the connection is not Connected:"$'\n'"$found"
    lab_ok "python3-miniupnpc: $(grep -E '^(control_url|external_ip)=' <<<"$found" | tr '\n' ' ')"
}

lab_upnp_up
lab_heading "UPnP discovery from the LAN host ($LAB_UPNP_IGD)"
check_upnpc_discovers
check_root_description
check_python_discovers
echo "PASS  the LAN host discovers the IGD with upnpc and python3-miniupnpc ($LAB_UPNP_IGD)"
