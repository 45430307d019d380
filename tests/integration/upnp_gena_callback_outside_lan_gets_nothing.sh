#!/usr/bin/env bash
# ctest: sanitize
# CallStranger (CVE-2020-12695): a GENA SUBSCRIBE whose CALLBACK points outside the LAN must not
# make the gateway connect there. The LAN host subscribes to WANIPConnection's events with
# CALLBACK <http://203.0.113.2:8000/> (alone, and after a LAN URL), then changes a port mapping so
# that an event is due; a sniffer on the WAN host sees no packet towards port 8000 at all.
# Control: a SUBSCRIBE with a LAN callback gets its initial NOTIFY on the LAN host. With gatewayd
# both refused SUBSCRIBEs are counted (gatewayctl status: upnp_refusals.http_callback_not_requester).
# LAB_NAT=gatewayd (default) or kernel (Debian's miniupnpd as the reference IGD, to check the test).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly CALLBACK_PORT=8000 MAPPING_PORT=47100
# Long enough for an event queue that coalesces changes (pupnp sends at once; miniupnpd within 1 s).
readonly EVENT_WAIT=5

# subscribe CALLBACK-HEADER-VALUE: prints the status line of the answer, or "no answer ...".
subscribe() {
    lab_upnp_py lan http "$EVENT_URL" --method SUBSCRIBE --header "CALLBACK: $1" \
        --header "NT: upnp:event" --header "TIMEOUT: Second-300" || true
}

check_lan_callback_is_notified() {
    local status
    status=$(subscribe "<http://$LAB_LAN_IP:$CALLBACK_PORT/>")
    [[ $status == "HTTP/1.1 200"* ]] || lab_fail "control: SUBSCRIBE with a LAN callback was answered: $status"
    lab_wait_log "$LAB_TMP/arrivals.lan.$CALLBACK_PORT" "NOTIFY" "$EVENT_WAIT" ||
        lab_fail "control: no NOTIFY reached the LAN callback http://$LAB_LAN_IP:$CALLBACK_PORT/ within ${EVENT_WAIT}s"
    lab_ok "control: SUBSCRIBE to $EVENT_URL with a LAN callback → $status, and the NOTIFY arrived"
}

check_wan_callback_is_never_called() {
    local status_alone status_mixed out seen before
    before=$(lab_upnp_count http_callback_not_requester)
    status_alone=$(subscribe "<http://$LAB_WAN_IP:$CALLBACK_PORT/>")
    status_mixed=$(subscribe "<http://$LAB_LAN_IP:$CALLBACK_PORT/other><http://$LAB_WAN_IP:$CALLBACK_PORT/>")
    # An evented change (PortMappingNumberOfEntries) after the subscriptions, for the IGD to report.
    out=$(lab_upnp_py lan add "$MAPPING_PORT" TCP "$MAPPING_PORT" --lease 600) || lab_fail "AddPortMapping TCP $MAPPING_PORT: $out"
    out=$(lab_upnp_py lan delete "$MAPPING_PORT" TCP) || lab_fail "DeletePortMapping TCP $MAPPING_PORT: $out"
    sleep "$EVENT_WAIT"
    seen=$(lab_sniffed wan-callback)
    [[ -z $seen ]] || lab_fail "the gateway sent packets to the WAN callback $LAB_WAN_IP:$CALLBACK_PORT (SUBSCRIBE answered '$status_alone' / '$status_mixed'):"$'\n'"$seen"
    lab_ok "SUBSCRIBE with CALLBACK <http://$LAB_WAN_IP:$CALLBACK_PORT/> → $status_alone; with a LAN URL first → $status_mixed"
    lab_ok "after an evented change and ${EVENT_WAIT}s, the WAN host saw no packet towards port $CALLBACK_PORT"
    lab_upnp_expect_counted http_callback_not_requester "$before" "both SUBSCRIBEs with a WAN callback" 2
}

lab_upnp_up
lab_heading "GENA SUBSCRIBE with a callback outside the LAN (CallStranger) ($LAB_UPNP_IGD)"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
EVENT_URL=$(lab_upnp_service_url lan WANIPConnection eventSubURL) ||
    lab_fail "no eventSubURL for WANIPConnection in the root description $LAB_UPNP_URL"
lab_upnp_listen lan "$CALLBACK_PORT"
lab_sniff_start wan wan-callback "$CALLBACK_PORT"
check_lan_callback_is_notified
check_wan_callback_is_never_called
echo "PASS  a GENA callback outside the LAN is never called ($LAB_UPNP_IGD)"
