#!/usr/bin/env bash
# ctest: sanitize
# Mappings carried through an upstream NAT (issue 19) that is a second gatewayd (UPnP IGD, NAT-PMP
# and PCP), as a carrier-grade NAT with PCP: tests/lab/lab_two_nats.sh's lab,
#   LAN host ─ gateway (gatewayd, WAN 100.64.0.2) ─ ISP box (gatewayd, 45.76.113.1) ─ internet host
# with wan.upstream_mappings at its default (auto: PCP first, which the upstream answers).
# The LAN host asks with each protocol the gateway serves; Messenger's ports, twice NATed:
#   - NAT-PMP (natpmpc): told the upstream's address (45.76.113.1); UDP 5004 (RTP) mapped, carried,
#     and datagrams from the internet host to 45.76.113.1:port reach the LAN host;
#   - PCP (tests/lab/labpcp.py): TCP 3389 and UDP 40004; the answer's assigned external address and
#     port are the upstream's, and the internet host gets through to them;
#   - UPnP (upnpc -a): TCP 1503 and 6891, carried and reachable; upnpc -s tells the upstream's address;
#   - gatewayctl status shows the upstream in use (PCP, 45.76.113.1);
#   - NAT-PMP lifetime 0 closes both halves; a PCP MAP with lifetime 0 (same nonce) too; a 6 s
#     NAT-PMP lifetime running out closes both halves;
#   - a restart of the gateway's gatewayd re-claims its upstream halves with the nonces it kept
#     (PCP requests arrive upstream and it refuses none: pcp_not_authorized unchanged), also one
#     the upstream lost while the gateway was down (gatewayctl mappings delete there), and they
#     reach the LAN host;
#   - a static forward with upstream: true (TCP 6898) is carried and reachable through both NATs;
#   - the upstream gatewayd restarted without its lease file (every mapping lost): its PCP ANNOUNCE
#     and NAT-PMP announcement at start (RFC 6887 14.1.3, RFC 6886 3.2.1) reach the gateway, which
#     claims its halves again within seconds, not at the next renewal, and they reach the LAN host;
#   - the upstream gatewayd stopped: with wan.upstream_failure refuse a new NAT-PMP mapping is refused
#     (an error result), and none is kept locally;
#   - the upstream's NAT-PMP as well (wan.upstream_mappings natpmp): a mapping carried by it,
#     reachable through both NATs.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "carrying mappings upstream is gatewayd's; LAB_NAT=${LAB_NAT:-}"

readonly UPSTREAM=$LAB_UPNP_REFERENCE_EXTERNAL_IP LAB_PCP_PY=$LAB_DIR/labpcp.py
readonly RTP_PORT=5004 RTP_HIGH_PORT=40004 RA_PORT=3389 SHARING_PORT=1503 FILE_PORT=6891 SHORT_PORT=6899 REFUSE_PORT=6900
readonly PCP_NONCE=0123456789abcdef01234567 SHORT_LIFETIME=6
readonly NATPMP_VIA_PORT=6892 STATIC_PORT=6898

# pcp_map PROTO PORT LIFETIME: a PCP MAP from the LAN host for PORT, suggesting PORT; sets PCP_FIELDS.
pcp_map() {
    PCP_FIELDS=$(lab_in lan /usr/bin/python3 "$LAB_PCP_PY" map --server "$LAB_GW_LAN_IP" --protocol "$1" \
        --internal "$2" --suggest "$2" --lifetime "$3" --nonce "$PCP_NONCE" 2>&1) ||
        lab_fail "PCP MAP $1 $2 (lifetime $3) got no valid answer:"$'\n'"$PCP_FIELDS"
    [[ $(pcp_field result_name) == SUCCESS ]] || lab_fail "PCP MAP $1 $2 (lifetime $3) was refused:"$'\n'"$PCP_FIELDS"
}

pcp_field() { sed -n "s/^$1=//p" <<<"$PCP_FIELDS"; }

# natpmp_map PROTO PORT LIFETIME: natpmpc -a from the LAN host; sets NATPMP_PORT (the port it was told).
natpmp_map() {
    local out
    out=$(lab_natpmpc lan -a "$2" "$2" "$1" "$3") || lab_fail "natpmpc -a $2 $2 $1 $3 failed:"$'\n'"$out"
    NATPMP_PORT=$(sed -nE 's/^Mapped public port ([0-9]+) protocol .*/\1/p' <<<"$out")
    [[ -n $NATPMP_PORT ]] || lab_fail "natpmpc -a $2 $2 $1 $3 was not granted:"$'\n'"$out"
}

upnpc_add() {
    local out
    out=$(lab_upnpc lan -e "msmsgs $2 $1" -a "$LAB_LAN_IP" "$2" "$2" "$1" 3600 2>&1) ||
        lab_fail "upnpc -a $2 $1 failed:"$'\n'"$out"
    grep -q "external $UPSTREAM:[0-9]* $1 is redirected to internal $LAB_LAN_IP:$2" <<<"$out" ||
        lab_fail "upnpc -a $2 $1: not granted, or not told the upstream's address $UPSTREAM:"$'\n'"$out"
}

# carried PROTO PORT WHAT: the upstream holds it, and the internet host gets through to it.
carried() {
    local lower
    lower=$(tr '[:upper:]' '[:lower:]' <<<"$1")
    lab_isp_expect_mapped "$1" "$2" "$3"
    lab_two_nats_expect_open lan "$lower" "$LAB_ISP_PORT" "$2" "$3"
}

# isp_count KEY: the upstream gatewayd's port_control_counts.KEY.
isp_count() {
    lab_isp_ctl --json status | /usr/bin/python3 -c 'import json, sys
print(json.load(sys.stdin).get("port_control_counts", {}).get(sys.argv[1], 0))' "$1"
}

lab_heading "the upstream is a second gatewayd (UPnP IGD, NAT-PMP, PCP) on the ISP box"
lab_two_nats_up --upstream gatewayd
lab_two_nats_listen lan "$RTP_PORT" "$RTP_HIGH_PORT" "$RA_PORT" "$SHARING_PORT" "$FILE_PORT" "$SHORT_PORT" "$STATIC_PORT"
# Discovery runs in the background after start (PCP, NAT-PMP, then an SSDP search of 2 s).
lab_upstream_expect_using PCP "discovery"
lab_ok "the gateway found the upstream: $LAB_UPSTREAM_LINE"

lab_heading "NAT-PMP: RTP on UDP $RTP_PORT"
out=$(lab_natpmpc lan) || lab_fail "natpmpc (external address) failed:"$'\n'"$out"
grep -q "^Public IP address : $UPSTREAM\$" <<<"$out" || lab_fail "natpmpc is not told the upstream's address $UPSTREAM:"$'\n'"$out"
lab_ok "natpmpc on the LAN host: Public IP address : $UPSTREAM (the upstream's)"
natpmp_map udp "$RTP_PORT" 3600
carried UDP "$RTP_PORT" "NAT-PMP UDP $RTP_PORT"
[[ $NATPMP_PORT == "$LAB_ISP_PORT" ]] || lab_fail "natpmpc was told port $NATPMP_PORT, the upstream holds $LAB_ISP_PORT"
lab_ok "NAT-PMP UDP $RTP_PORT: told $UPSTREAM:$NATPMP_PORT, the upstream's; datagrams from the internet reach the LAN host"

# A short lifetime, whose end is checked below, while the other checks run.
natpmp_map tcp "$SHORT_PORT" "$SHORT_LIFETIME"
carried TCP "$SHORT_PORT" "NAT-PMP TCP $SHORT_PORT, lifetime $SHORT_LIFETIME s"
lab_ok "NAT-PMP TCP $SHORT_PORT for $SHORT_LIFETIME s: carried and reachable, until its lifetime ends"

lab_heading "PCP: TCP $RA_PORT (Remote Assistance) and UDP $RTP_HIGH_PORT (RTP)"
pcp_map tcp "$RA_PORT" 3600
carried TCP "$RA_PORT" "PCP TCP $RA_PORT"
[[ $(pcp_field external_address) == "::ffff:$UPSTREAM" && $(pcp_field external_port) == "$LAB_ISP_PORT" ]] ||
    lab_fail "PCP's assigned external address and port are not the upstream's $UPSTREAM:$LAB_ISP_PORT:"$'\n'"$PCP_FIELDS"
lab_ok "PCP TCP $RA_PORT: assigned $(pcp_field external_address) port $(pcp_field external_port), the upstream's; a connection from the internet reaches the LAN host"
pcp_map udp "$RTP_HIGH_PORT" 3600
carried UDP "$RTP_HIGH_PORT" "PCP UDP $RTP_HIGH_PORT"
lab_ok "PCP UDP $RTP_HIGH_PORT: carried and reachable at $UPSTREAM:$LAB_ISP_PORT"

lab_heading "UPnP: TCP $SHARING_PORT (application sharing) and $FILE_PORT (file transfer)"
out=$(lab_upnpc lan -s 2>&1) || true
grep -q "ExternalIPAddress = $UPSTREAM\$" <<<"$out" || lab_fail "upnpc -s is not told the upstream's address $UPSTREAM:"$'\n'"$out"
upnpc_add TCP "$SHARING_PORT"
upnpc_add TCP "$FILE_PORT"
carried TCP "$SHARING_PORT" "UPnP TCP $SHARING_PORT"
carried TCP "$FILE_PORT" "UPnP TCP $FILE_PORT"
lab_ok "UPnP TCP $SHARING_PORT and $FILE_PORT: carried, reachable through both NATs; upnpc -s says $UPSTREAM"

lab_upstream_expect_using PCP "five mappings carried"
lab_ok "gatewayctl status: $LAB_UPSTREAM_LINE"

lab_heading "deleting, and a lifetime running out, close both halves"
out=$(lab_natpmpc lan -a "$RTP_PORT" "$RTP_PORT" udp 0) || lab_fail "natpmpc -a $RTP_PORT $RTP_PORT udp 0 failed:"$'\n'"$out"
lab_isp_expect_unmapped UDP "$RTP_PORT" "after NAT-PMP lifetime 0"
lab_two_nats_expect_closed lan udp "$RTP_PORT" "$RTP_PORT" "after NAT-PMP lifetime 0"
lab_ok "NAT-PMP lifetime 0: gone upstream, closed from the internet"
out=$(lab_in lan /usr/bin/python3 "$LAB_PCP_PY" map --server "$LAB_GW_LAN_IP" --protocol udp --internal "$RTP_HIGH_PORT" \
    --suggest "$RTP_HIGH_PORT" --lifetime 0 --nonce "$PCP_NONCE" 2>&1) || lab_fail "PCP MAP lifetime 0 failed:"$'\n'"$out"
lab_isp_expect_unmapped UDP "$RTP_HIGH_PORT" "after PCP MAP lifetime 0"
lab_two_nats_expect_closed lan udp "$RTP_HIGH_PORT" "$RTP_HIGH_PORT" "after PCP MAP lifetime 0"
lab_ok "PCP MAP lifetime 0 (same nonce): gone upstream, closed from the internet"
lab_poll $((SHORT_LIFETIME + 6)) _lab_isp_unmapped TCP "$SHORT_PORT" ||
    lab_fail "the $SHORT_LIFETIME s lifetime ran out but the upstream still holds TCP $SHORT_PORT:"$'\n'"$(lab_isp_mappings)"
lab_two_nats_expect_closed lan tcp "$SHORT_PORT" "$SHORT_PORT" "after the $SHORT_LIFETIME s lifetime"
lab_ok "a $SHORT_LIFETIME s NAT-PMP lifetime ran out: gone upstream, closed from the internet"

lab_heading "a restart of the gateway's gatewayd re-claims the upstream halves with their nonces"
lab_daemon_stop
grep -qE "^tcp $RA_PORT via=pcp external=${UPSTREAM//./\\.}:[0-9]+ .*nonce=[0-9a-f]{24}" "$LAB_UPNP_LEASE_FILE.upstream" ||
    lab_fail "the upstream state file does not hold TCP $RA_PORT's PCP half and its nonce:"$'\n'"$(cat "$LAB_UPNP_LEASE_FILE.upstream" 2>&1)"
# What an upstream that lost a mapping while we were down looks like: TCP $FILE_PORT gone up there.
out=$(lab_isp_ctl mappings delete tcp "$FILE_PORT" 2>&1) || lab_fail "gatewayctl mappings delete tcp $FILE_PORT on the upstream failed: $out"
lab_isp_expect_unmapped TCP "$FILE_PORT" "deleted on the upstream while the gateway was down" 1
requests_before=$(isp_count pcp_requests)
refused_before=$(isp_count pcp_not_authorized)
lab_daemon_start
lab_isp_expect_mapped TCP "$FILE_PORT" "after the restart (claimed again)" 10
lab_two_nats_expect_open lan tcp "$LAB_ISP_PORT" "$FILE_PORT" "UPnP TCP $FILE_PORT after the restart"
lab_isp_expect_mapped TCP "$RA_PORT" "after the restart"
lab_two_nats_expect_open lan tcp "$LAB_ISP_PORT" "$RA_PORT" "PCP TCP $RA_PORT after the restart"
grep -qE "upstream: [0-9]+ upstream halves from before the restart" "$LAB_DAEMON_LOG" ||
    lab_fail "the restarted gateway does not log the upstream halves it read back"
requests_after=$(isp_count pcp_requests)
refused_after=$(isp_count pcp_not_authorized)
((requests_after >= requests_before + 2)) ||
    lab_fail "the restarted gateway did not re-claim its halves: the upstream's pcp_requests $requests_before -> $requests_after"
((refused_after == refused_before)) ||
    lab_fail "the upstream refused a re-claim (pcp_not_authorized $refused_before -> $refused_after): a nonce was not kept"
lab_ok "after a SIGTERM restart: TCP $FILE_PORT claimed again, $RA_PORT re-claimed ($((requests_after - requests_before)) PCP requests), none refused (same nonces); both reach the LAN host"

lab_heading "a static forward with upstream: true; the upstream restarts, announces, and gets every half again"
lab_daemon_stop
lab_daemon_start --config <(lab_two_nats_config
    printf '%s\n' "firewall:" "  forwards:" \
        "    - {name: upstream-static, protocol: tcp, external_port: $STATIC_PORT, internal: \"$LAB_LAN_IP:$STATIC_PORT\", upstream: true}")
lab_upstream_expect_using PCP "a static forward with upstream: true"
carried TCP "$STATIC_PORT" "static forward TCP $STATIC_PORT (upstream: true)"
lab_ok "static forward TCP $STATIC_PORT with upstream: true: carried to $UPSTREAM:$LAB_ISP_PORT, reachable through both NATs"
lab_isp_expect_mapped TCP "$RA_PORT" "before the upstream restarts"
lab_isp_stop
rm -f "$LAB_TMP"/gatewayd.isp.leases*  # the upstream lost every mapping
lab_isp_start
grep -q "PCP: announcing\|(and PCP ANNOUNCE)" "$LAB_ISP_LOG" ||
    lab_fail "the upstream gatewayd does not announce at start:"$'\n'"$(lab_isp_log_tail)"
# Renewals are far off (lifetime 3600 s): only the announcement brings them back this soon.
lab_isp_expect_mapped TCP "$RA_PORT" "after the upstream's restart and announcement" 5
lab_two_nats_expect_open lan tcp "$LAB_ISP_PORT" "$RA_PORT" "PCP TCP $RA_PORT after the upstream's restart"
lab_isp_expect_mapped TCP "$STATIC_PORT" "static forward after the upstream's restart" 5
lab_two_nats_expect_open lan tcp "$LAB_ISP_PORT" "$STATIC_PORT" "static forward TCP $STATIC_PORT after the upstream's restart"
grep -q "upstream: the upstream announced itself with a new epoch" "$LAB_DAEMON_LOG" ||
    lab_fail "the gateway does not log the upstream's announced restart"
announcements=$(lab_upstream_field counters.announcements)
((announcements >= 1)) || lab_fail "gatewayctl status counts no announcement from the upstream ($announcements)"
lab_ok "the upstream restarted without its leases: its announcement ($announcements heard) got TCP $RA_PORT and $STATIC_PORT claimed again within seconds; both reach the LAN host"

lab_heading "the upstream gatewayd stopped: wan.upstream_failure refuse"
lab_daemon_stop
lab_daemon_start --config <(lab_two_nats_config upstream_failure=refuse)
lab_upstream_expect_using PCP "wan.upstream_failure refuse, before the upstream stops"
lab_isp_stop
out=$(lab_natpmpc lan -a "$REFUSE_PORT" "$REFUSE_PORT" tcp 3600) || true
if grep -qE "^Mapped public port" <<<"$out"; then
    lab_fail "wan.upstream_failure refuse: NAT-PMP mapped TCP $REFUSE_PORT with the upstream stopped:"$'\n'"$out"
fi
lab_upnp_expect_unlisted lan TCP "$REFUSE_PORT" "a NAT-PMP mapping refused for the upstream"
grep -qiE "upstream: .*tcp $REFUSE_PORT.*undone" "$LAB_DAEMON_LOG" ||
    lab_fail "refuse: the log does not say TCP $REFUSE_PORT's local mapping was undone"
lab_ok "refuse: NAT-PMP TCP $REFUSE_PORT refused ($(grep -m1 -iE 'result|fail' <<<"$out" | tr -s ' ')); nothing kept locally"
# (Its UPnP IGD as the upstream: upstream_mappings_miniupnpd.sh's client against miniupnpd, and
# upstream_clients_find_and_map.sh's against gatewayd; 6 s more here for its SSDP search.)
lab_heading "the upstream's NAT-PMP: wan.upstream_mappings natpmp"
lab_isp_start
lab_daemon_stop
lab_daemon_start --config <(lab_two_nats_config upstream_mappings=natpmp)
lab_upnp_listen lan "$NATPMP_VIA_PORT"
lab_upstream_expect_using NAT-PMP "wan.upstream_mappings natpmp"
upnpc_add TCP "$NATPMP_VIA_PORT"
carried TCP "$NATPMP_VIA_PORT" "wan.upstream_mappings natpmp: UPnP TCP $NATPMP_VIA_PORT"
lab_ok "wan.upstream_mappings natpmp: TCP $NATPMP_VIA_PORT carried by NAT-PMP to $UPSTREAM:$LAB_ISP_PORT, reachable through both NATs"
echo "PASS  mappings carried through a second gatewayd by PCP: NAT-PMP, PCP and UPnP clients reach the LAN host through both NATs; deletions, expiry, restart and refusal follow upstream"
