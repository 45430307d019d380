#!/usr/bin/env bash
# ctest: sanitize
# Mappings outlive a restart: the IGD is stopped as systemd stops it (SIGTERM) and started again
# with the same lease file; the UDP and TCP mappings granted before are listed again, with no more
# time left than before, and the WAN host reaches the LAN host through them again.
# LAB_NAT=gatewayd (default) or kernel (Debian's miniupnpd as the reference IGD, to check the test).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly UDP_PORT=45000 TCP_PORT=45001 LEASE=3600

lab_upnp_up
lab_heading "UPnP mappings survive a restart through the lease file ($LAB_UPNP_IGD)"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
lab_upnp_listen lan "$UDP_PORT"
lab_upnp_listen lan "$TCP_PORT"
out=$(lab_upnp_py lan add "$UDP_PORT" UDP "$UDP_PORT" --lease "$LEASE" --desc keep-udp) || lab_fail "AddPortMapping UDP $UDP_PORT: $out"
out=$(lab_upnp_py lan add "$TCP_PORT" TCP "$TCP_PORT" --lease "$LEASE" --desc keep-tcp) || lab_fail "AddPortMapping TCP $TCP_PORT: $out"
lab_upnp_expect_open lan udp "$UDP_PORT" "$UDP_PORT" "UDP $UDP_PORT before the restart"
lab_upnp_expect_open lan tcp "$TCP_PORT" "$TCP_PORT" "TCP $TCP_PORT before the restart"
lab_ok "UDP $UDP_PORT and TCP $TCP_PORT mapped with ${LEASE}s leases and open"

lab_upnp_stop
[[ -s $LAB_UPNP_LEASE_FILE ]] || lab_fail "after SIGTERM the lease file $LAB_UPNP_LEASE_FILE is missing or empty"
lab_ok "stopped with SIGTERM; the lease file holds $(wc -l <"$LAB_UPNP_LEASE_FILE") line(s)"
lab_upnp_start
lab_upnp_discover lan || lab_fail "after the restart, no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"

for mapping in "UDP $UDP_PORT keep-udp" "TCP $TCP_PORT keep-tcp"; do
    read -r proto port desc <<<"$mapping"
    entry=$(lab_upnp_py lan get "$port" "$proto") ||
        lab_fail "after the restart, GetSpecificPortMappingEntry $proto $port: $entry (lease file: $(cat "$LAB_UPNP_LEASE_FILE"))"
    [[ $entry == "$LAB_LAN_IP:$port "*" '$desc'" ]] ||
        lab_fail "after the restart, $proto $port is $entry; expected $LAB_LAN_IP:$port '$desc'"
    lease=$(awk '{ print $2 }' <<<"$entry")
    ((lease > 0 && lease <= LEASE)) || lab_fail "after the restart, $proto $port has ${lease}s left; expected 1..$LEASE"
done
lab_upnp_expect_listed lan UDP "$UDP_PORT" "$LAB_LAN_IP:$UDP_PORT" "after the restart"
lab_upnp_expect_listed lan TCP "$TCP_PORT" "$LAB_LAN_IP:$TCP_PORT" "after the restart"
lab_ok "after the restart both are listed again, description kept, ${lease}s left of ${LEASE}s"
lab_upnp_expect_open lan udp "$UDP_PORT" "$UDP_PORT" "UDP $UDP_PORT after the restart"
lab_upnp_expect_open lan tcp "$TCP_PORT" "$TCP_PORT" "TCP $TCP_PORT after the restart"
lab_ok "and the WAN host reaches the LAN host through both again"
echo "PASS  mappings survive a SIGTERM restart through the lease file ($LAB_UPNP_IGD)"
