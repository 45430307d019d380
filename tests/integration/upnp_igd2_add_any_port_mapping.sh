#!/usr/bin/env bash
# ctest: sanitize
# With igd_version: 2 the gateway is an InternetGatewayDevice:2 with WANIPConnection:2, and
# AddAnyPortMapping (python3-miniupnpc's addanyportmapping) grants the port asked for when it is
# free and another one when another LAN host holds it; the port granted is the one that works
# from the WAN host. GetListOfPortMappings (upnpc -L, IGD:2 only) lists what was granted.
# LAB_NAT=gatewayd (default) or kernel (Debian's miniupnpd as the reference IGD, to check the test).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly WANTED=46000 FIRST_INTERNAL=46000 SECOND_INTERNAL=46010
SECOND_HOST_IP=$(lab_lan_ip 2)
readonly SECOND_HOST_IP

check_device_is_igd2() {
    local description
    description=$(lab_upnp_root_desc lan) || lab_fail "GET $LAB_UPNP_URL from the LAN host failed"
    grep -q 'urn:schemas-upnp-org:device:InternetGatewayDevice:2' <<<"$description" ||
        lab_fail "igd_version 2: the root description names no InternetGatewayDevice:2:"$'\n'"$description"
    grep -q 'urn:schemas-upnp-org:service:WANIPConnection:2' <<<"$description" ||
        lab_fail "igd_version 2: the root description names no WANIPConnection:2:"$'\n'"$description"
    lab_ok "root description: InternetGatewayDevice:2 with WANIPConnection:2"
}

check_free_port_granted() {
    local granted
    granted=$(lab_upnp_py lan2 add-any "$WANTED" TCP "$FIRST_INTERNAL" --desc first) ||
        lab_fail "AddAnyPortMapping TCP $WANTED from LAN host 2 failed: $granted"
    [[ $granted == "$WANTED" ]] || lab_fail "AddAnyPortMapping TCP $WANTED (free) granted port $granted instead"
    lab_upnp_expect_open lan2 tcp "$WANTED" "$FIRST_INTERNAL" "LAN host 2's AddAnyPortMapping TCP $WANTED"
    lab_ok "LAN host 2: AddAnyPortMapping TCP $WANTED (free) → granted $granted, reachable from the WAN host"
}

check_taken_port_replaced() {
    local granted
    granted=$(lab_upnp_py lan add-any "$WANTED" TCP "$SECOND_INTERNAL" --desc second) ||
        lab_fail "AddAnyPortMapping TCP $WANTED from LAN host 1 (port held by LAN host 2) failed: $granted"
    [[ $granted =~ ^[0-9]+$ && $granted != "$WANTED" ]] ||
        lab_fail "AddAnyPortMapping TCP $WANTED held by LAN host 2: expected another port, got '$granted'"
    lab_upnp_expect_open lan tcp "$granted" "$SECOND_INTERNAL" "LAN host 1's mapping on the granted port $granted"
    # The first holder keeps its port.
    lab_upnp_expect_open lan2 tcp "$WANTED" "$FIRST_INTERNAL" "LAN host 2's mapping after LAN host 1's request"
    lab_upnp_expect_listed lan TCP "$granted" "$LAB_LAN_IP:$SECOND_INTERNAL" "GetGenericPortMappingEntry"
    lab_ok "LAN host 1: AddAnyPortMapping TCP $WANTED (held by LAN host 2) → granted $granted, which reaches it; LAN host 2 keeps $WANTED"
    GRANTED=$granted
}

check_list_of_port_mappings() {
    local listing
    listing=$(lab_upnpc lan -L 2>&1) || lab_fail "upnpc -L (GetListOfPortMappings) failed:"$'\n'"$listing"
    if ! grep -qE "TCP +$WANTED->$SECOND_HOST_IP:$FIRST_INTERNAL " <<<"$listing" ||
        ! grep -qE "TCP +$GRANTED->$LAB_LAN_IP:$SECOND_INTERNAL " <<<"$listing"; then
        lab_fail "upnpc -L (GetListOfPortMappings) does not list both mappings:"$'\n'"$listing"
    fi
    lab_ok "upnpc -L (GetListOfPortMappings): both mappings"
}

lab_upnp_up --igd-version 2 --lan-hosts 2
lab_heading "IGD:2 and AddAnyPortMapping ($LAB_UPNP_IGD)"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
lab_upnp_listen lan2 "$FIRST_INTERNAL"
lab_upnp_listen lan "$SECOND_INTERNAL"
check_device_is_igd2
check_free_port_granted
check_taken_port_replaced
check_list_of_port_mappings
echo "PASS  IGD:2 grants AddAnyPortMapping, with another port when the one asked for is taken ($LAB_UPNP_IGD)"
