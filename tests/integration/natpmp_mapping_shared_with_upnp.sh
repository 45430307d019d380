#!/usr/bin/env bash
# ctest: sanitize
# NAT-PMP (RFC 6886) with the real client natpmpc (Debian natpmp-utils), over the one mapping
# table UPnP uses:
#  - on start gatewayd announces its external address to 224.0.0.1:5350 on the LAN, and a LAN
#    host asking gets that address;
#  - a NAT-PMP TCP mapping opens the port: the WAN host reaches the LAN host's listener at
#    wan_address:port; UPnP lists it (upnpc -l), described "NAT-PMP <port> tcp";
#  - another LAN host's UPnP AddPortMapping on that port gets 718 ConflictInMappingEntry, and
#    NAT-PMP asking for a port a UPnP mapping holds is given another one;
#  - after a restart (SIGTERM) the NAT-PMP mapping is still there and open (lease file);
#  - internal port 0 with lifetime 0 deletes the host's NAT-PMP mappings of that protocol only;
#  - a request the permission rules deny (internal port 80) is refused (result 2) and counted
#    (gatewayctl status: port_control_counts.natpmp_not_authorized);
#  - lifetime 0 removes it: unlisted, and the WAN host no longer reaches the LAN host.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly PORT=46000 UPNP_PORT=46100 LEASE=3600
LAN2_IP=$(lab_lan_ip 2)
readonly LAN2_IP

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "NAT-PMP is checked against gatewayd only"
command -v natpmpc >/dev/null || lab_skip "missing tool: natpmpc (package natpmp-utils; tools/install-deps.sh)"

# natpmpc ROLE ARGS...: the client in ROLE's namespace, towards the gateway's LAN address.
natpmpc_in() {
    local role=$1
    shift
    lab_in "$role" natpmpc -g "$LAB_GW_LAN_IP" "$@" 2>&1
}

# The external port natpmpc reports ("Mapped public port P protocol ..."), or nothing.
mapped_port() { sed -nE 's/^Mapped public port ([0-9]+) protocol .*/\1/p' <<<"$1"; }

check_announcement() {
    # A LAN-side socket joined to 224.0.0.1:5350 before the daemon starts: the first of the
    # ten start-up announcements (RFC 6886 3.2.1) is 12 bytes, opcode 128, the WAN address.
    lab_bg lan announce-listener /usr/bin/python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("224.0.0.1", 5350))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, struct.pack("4s4s", socket.inet_aton("224.0.0.1"), socket.inet_aton(sys.argv[1])))
s.settimeout(20)
data, source = s.recvfrom(64)
version, opcode, result, epoch = struct.unpack("!BBHI", data[:8])
print("from %s version %d opcode %d result %d epoch %d address %s size %d" % (source[0], version, opcode, result, epoch, socket.inet_ntoa(data[8:12]), len(data)), flush=True)
' "$LAB_LAN_IP"
    lab_wait_listen lan udp 5350
    lab_upnp_start
    local log=$LAB_TMP/announce-listener.log
    lab_poll 10 grep -q '^from ' "$log" || lab_fail "no NAT-PMP announcement reached the LAN host; it logged: $(cat "$log")"
    grep -qE "^from $LAB_GW_LAN_IP version 0 opcode 128 result 0 epoch [0-9]+ address $LAB_GW_WAN_IP size 12$" "$log" ||
        lab_fail "the announcement is not the external address response expected: $(cat "$log")"
    lab_ok "announcement on the LAN: $(cat "$log")"
}

check_external_address() {
    local out
    out=$(natpmpc_in lan) || lab_fail "natpmpc (external address) failed:"$'\n'"$out"
    grep -q "^Public IP address : $LAB_GW_WAN_IP\$" <<<"$out" ||
        lab_fail "natpmpc did not get $LAB_GW_WAN_IP:"$'\n'"$out"
    lab_ok "natpmpc on the LAN host: Public IP address : $LAB_GW_WAN_IP"
}

check_mapping_reaches_lan_host() {
    local out port
    out=$(natpmpc_in lan -a "$PORT" "$PORT" tcp "$LEASE") || lab_fail "natpmpc -a $PORT $PORT tcp failed:"$'\n'"$out"
    port=$(mapped_port "$out")
    [[ $port == "$PORT" ]] || lab_fail "natpmpc asked for TCP $PORT and got '${port:-nothing}':"$'\n'"$out"
    lab_upnp_expect_open lan tcp "$PORT" "$PORT" "NAT-PMP TCP $PORT"
    lab_ok "NAT-PMP maps TCP $PORT; the WAN host reaches the LAN host's listener at $LAB_GW_WAN_IP:$PORT"
}

check_upnp_sees_it() {
    lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
    local listing
    listing=$(lab_upnpc lan -l 2>&1) || lab_fail "upnpc -l failed:"$'\n'"$listing"
    grep -qE "TCP +$PORT->$LAB_LAN_IP:$PORT +'NAT-PMP $PORT tcp'" <<<"$listing" ||
        lab_fail "upnpc -l does not list the NAT-PMP mapping TCP $PORT:"$'\n'"$listing"
    lab_ok "upnpc -l lists it: $(grep -E "TCP +$PORT->" <<<"$listing" | sed 's/^ *//')"
    local out rc=0
    out=$(lab_upnpc lan2 -e taken -a "$LAN2_IP" "$PORT" "$PORT" TCP 3600 2>&1) || rc=$?
    grep -qE "failed with code 718 " <<<"$out" ||
        lab_fail "LAN host 2's UPnP AddPortMapping on TCP $PORT: expected 718, upnpc said (exit $rc):"$'\n'"$out"
    lab_ok "LAN host 2's UPnP AddPortMapping on TCP $PORT: 718 ConflictInMappingEntry"
}

check_natpmp_avoids_upnp_port() {
    lab_upnp_map lan2 UDP "$UPNP_PORT" "$UPNP_PORT" upnp-held
    local out port
    out=$(natpmpc_in lan -a "$UPNP_PORT" "$UPNP_PORT" udp "$LEASE") ||
        lab_fail "natpmpc -a $UPNP_PORT $UPNP_PORT udp failed:"$'\n'"$out"
    port=$(mapped_port "$out")
    [[ -n $port && $port != "$UPNP_PORT" ]] ||
        lab_fail "NAT-PMP asked for UDP $UPNP_PORT, which LAN host 2 holds over UPnP, and got '${port:-nothing}':"$'\n'"$out"
    lab_upnp_expect_listed lan UDP "$UPNP_PORT" "$LAN2_IP:$UPNP_PORT" "the UPnP mapping NAT-PMP asked for"
    lab_ok "NAT-PMP asking for UDP $UPNP_PORT (held by UPnP) was given UDP $port; the UPnP mapping stays"
    NATPMP_UDP_PORT=$port
}

check_delete_all_of_protocol() {
    local out
    out=$(natpmpc_in lan -a 0 0 udp 0) || lab_fail "natpmpc -a 0 0 udp 0 failed:"$'\n'"$out"
    lab_upnp_expect_unlisted lan UDP "$NATPMP_UDP_PORT" "after NAT-PMP delete-all (internal port 0, lifetime 0)"
    lab_upnp_expect_listed lan UDP "$UPNP_PORT" "$LAN2_IP:$UPNP_PORT" "LAN host 2's UPnP mapping after the delete-all"
    lab_upnp_expect_listed lan TCP "$PORT" "$LAB_LAN_IP:$PORT" "the TCP NAT-PMP mapping after the UDP delete-all"
    lab_ok "internal port 0, lifetime 0 removed the host's NAT-PMP UDP $NATPMP_UDP_PORT only (RFC 6886 3.4)"
}

# natpmp_count KEY: gatewayctl status's port_control_counts.KEY.
natpmp_count() {
    lab_ctl --json status | /usr/bin/python3 -c 'import json, sys
print(json.load(sys.stdin).get("port_control_counts", {}).get(sys.argv[1], 0))' "$1"
}

check_refusal_counted() {
    local before after out rc=0
    before=$(natpmp_count natpmp_not_authorized)
    out=$(natpmpc_in lan -a 80 80 tcp "$LEASE") || rc=$?
    [[ -z $(mapped_port "$out") ]] || lab_fail "NAT-PMP mapped TCP 80, which the permission rules deny:"$'\n'"$out"
    after=$(natpmp_count natpmp_not_authorized)
    ((after == before + 1)) ||
        lab_fail "the refused request was not counted: natpmp_not_authorized $before -> $after; status:"$'\n'"$(lab_ctl --json status)"
    lab_ok "TCP 80 (denied by the permission rules) refused, natpmpc exit $rc; counted (natpmp_not_authorized $before -> $after)"
}

check_restart_keeps_it() {
    lab_upnp_stop
    grep -q "NAT-PMP $PORT tcp" "$LAB_UPNP_LEASE_FILE" ||
        lab_fail "the lease file does not hold the NAT-PMP mapping: $(cat "$LAB_UPNP_LEASE_FILE")"
    lab_upnp_start
    lab_upnp_expect_listed lan TCP "$PORT" "$LAB_LAN_IP:$PORT" "after the restart"
    lab_upnp_expect_open lan tcp "$PORT" "$PORT" "NAT-PMP TCP $PORT after the restart"
    lab_ok "after a SIGTERM restart the NAT-PMP mapping is listed and open again"
}

check_lifetime_zero_removes_it() {
    local out
    out=$(natpmpc_in lan -a 0 "$PORT" tcp 0) || lab_fail "natpmpc -a 0 $PORT tcp 0 failed:"$'\n'"$out"
    lab_upnp_expect_unlisted lan TCP "$PORT" "after NAT-PMP lifetime 0"
    lab_upnp_expect_closed lan tcp "$PORT" "$PORT" "after NAT-PMP lifetime 0"
    lab_ok "lifetime 0 removed it: unlisted, and the WAN host no longer reaches the LAN host"
}

lab_upnp_up --lan-hosts 2
lab_heading "NAT-PMP mappings share one table with UPnP (natpmpc, upnpc)"
lab_upnp_stop # started again with the announcement listener in place
check_announcement
lab_upnp_listen lan "$PORT"
check_external_address
check_mapping_reaches_lan_host
check_upnp_sees_it
check_natpmp_avoids_upnp_port
check_refusal_counted
check_delete_all_of_protocol
check_restart_keeps_it
check_lifetime_zero_removes_it
echo "PASS  NAT-PMP maps, shares the table with UPnP, survives a restart and deletes with lifetime 0"
