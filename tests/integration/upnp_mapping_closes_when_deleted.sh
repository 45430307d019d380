#!/usr/bin/env bash
# DeletePortMapping closes a mapping at once: a UDP and a TCP mapping that let the WAN host reach
# the LAN host stop doing so right after the LAN host deletes them (upnpc -d), and a new TCP
# connection or UDP datagram to their ports reaches nothing.
# LAB_NAT=gatewayd (default) or kernel (Debian's miniupnpd as the reference IGD, to check the test).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly UDP_PORT=43000 TCP_PORT=43001

lab_upnp_up
lab_heading "UPnP mappings close when deleted ($LAB_UPNP_IGD)"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
lab_upnp_listen lan "$UDP_PORT"
lab_upnp_listen lan "$TCP_PORT"
for proto in UDP TCP; do
    port=$UDP_PORT
    [[ $proto == TCP ]] && port=$TCP_PORT
    out=$(lab_upnpc lan -e "delete-me" -a "$LAB_LAN_IP" "$port" "$port" "$proto" 3600 2>&1) ||
        lab_fail "upnpc -a $proto $port failed:"$'\n'"$out"
done
lab_upnp_expect_open lan udp "$UDP_PORT" "$UDP_PORT" "UDP $UDP_PORT before the delete"
lab_upnp_expect_open lan tcp "$TCP_PORT" "$TCP_PORT" "TCP $TCP_PORT before the delete"
lab_ok "UDP $UDP_PORT and TCP $TCP_PORT mapped; the WAN host's packets reach the LAN host"

for proto in UDP TCP; do
    port=$UDP_PORT
    [[ $proto == TCP ]] && port=$TCP_PORT
    out=$(lab_upnpc lan -d "$port" "$proto" 2>&1) || lab_fail "upnpc -d $port $proto failed:"$'\n'"$out"
    grep -q "UPNP_DeletePortMapping() returned : 0" <<<"$out" || lab_fail "upnpc -d $port $proto:"$'\n'"$out"
done
lab_upnp_expect_unlisted lan UDP "$UDP_PORT" "after DeletePortMapping"
lab_upnp_expect_unlisted lan TCP "$TCP_PORT" "after DeletePortMapping"
lab_upnp_expect_closed lan udp "$UDP_PORT" "$UDP_PORT" "after DeletePortMapping"
lab_upnp_expect_closed lan tcp "$TCP_PORT" "$TCP_PORT" "after DeletePortMapping"
lab_ok "deleted (upnpc -d): no longer listed, and the WAN host's packets reach nothing"
echo "PASS  a mapping closes when deleted ($LAB_UPNP_IGD)"
