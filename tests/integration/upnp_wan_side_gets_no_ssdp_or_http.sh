#!/usr/bin/env bash
# ctest: sanitize
# The IGD serves the LAN only. From the WAN host: an SSDP M-SEARCH to 203.0.113.1:1900 and one to
# 239.255.255.250:1900 out of its WAN link get no answer, and HTTP to 203.0.113.1:5000 (curl)
# gets none either. While the test runs, and across a restart of the IGD (whose start and stop
# send ssdp:alive/byebye), no SSDP or IGD HTTP packet from the gateway reaches the WAN host.
# The same M-SEARCH from the LAN host is answered (the control that the prober works).
# LAB_NAT=gatewayd (default) or kernel (Debian's miniupnpd as the reference IGD, to check the test).
set -euo pipefail
# With gatewayd every refused packet is counted (gatewayctl status: upnp_refusals.from_wan).
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly SSDP_PORT=1900

check_lan_is_answered() {
    local out
    out=$(lab_upnp_py lan ssdp-search "$LAB_UPNP_SSDP_GROUP") ||
        lab_fail "control: the LAN host's M-SEARCH to $LAB_UPNP_SSDP_GROUP:$SSDP_PORT got no answer: $out"
    grep -q "location=http://$LAB_GW_LAN_IP:$LAB_UPNP_HTTP_PORT/" <<<"$out" ||
        lab_fail "control: the LAN host's M-SEARCH was answered without a LOCATION on $LAB_GW_LAN_IP: $out"
    lab_ok "control: the LAN host's M-SEARCH is answered: $(head -n 1 <<<"$out")"
}

# expect_unanswered WHAT SSDP-SEARCH-ARGS...: exit 1 is "no answer"; 0 an answer, 2 a failure to send.
expect_unanswered() {
    local what=$1 out rc=0
    shift
    out=$(lab_upnp_py wan ssdp-search "$@") || rc=$?
    case $rc in
    1) ;;
    0) lab_fail "the WAN host's $what was answered:"$'\n'"$out" ;;
    *) lab_fail "the WAN host could not send its $what: $out" ;;
    esac
}

check_wan_ssdp_unanswered() {
    local before
    before=$(lab_upnp_count from_wan)
    expect_unanswered "unicast M-SEARCH to $LAB_GW_WAN_IP:$SSDP_PORT" "$LAB_GW_WAN_IP"
    expect_unanswered "M-SEARCH to $LAB_UPNP_SSDP_GROUP:$SSDP_PORT" "$LAB_UPNP_SSDP_GROUP" --interface-address "$LAB_WAN_IP"
    expect_unanswered "M-SEARCH ssdp:all to $LAB_UPNP_SSDP_GROUP:$SSDP_PORT" "$LAB_UPNP_SSDP_GROUP" \
        --interface-address "$LAB_WAN_IP" --search-target ssdp:all
    lab_ok "the WAN host's M-SEARCH to $LAB_GW_WAN_IP:$SSDP_PORT and to $LAB_UPNP_SSDP_GROUP:$SSDP_PORT: no answer in 3s each"
    lab_upnp_expect_counted from_wan "$before" "the three M-SEARCHes (sent twice each)" 6
}

check_wan_http_unanswered() {
    local path=/${LAB_UPNP_URL#http://*/} code before
    before=$(lab_upnp_count from_wan)
    code=$(lab_wan curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://$LAB_GW_WAN_IP:$LAB_UPNP_HTTP_PORT$path" || true)
    [[ $code == 000 ]] || lab_fail "curl from the WAN host to http://$LAB_GW_WAN_IP:$LAB_UPNP_HTTP_PORT$path got HTTP $code"
    code=$(lab_wan curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://$LAB_GW_WAN_IP:$LAB_UPNP_HTTP_PORT/" || true)
    [[ $code == 000 ]] || lab_fail "curl from the WAN host to http://$LAB_GW_WAN_IP:$LAB_UPNP_HTTP_PORT/ got HTTP $code"
    lab_ok "curl from the WAN host to http://$LAB_GW_WAN_IP:$LAB_UPNP_HTTP_PORT$path and /: no HTTP answer"
    lab_upnp_expect_counted from_wan "$before" "the two HTTP connection attempts" 2
}

check_nothing_leaked() {
    local seen
    seen=$(lab_sniffed wan-ssdp)
    [[ -z $seen ]] || lab_fail "SSDP or IGD HTTP packets from the gateway reached the WAN host:"$'\n'"$seen"
    lab_ok "the WAN host received no SSDP (port $SSDP_PORT) or IGD HTTP (port $LAB_UPNP_HTTP_PORT) packet at all, restart included"
}

lab_upnp_up
lab_heading "UPnP on the WAN side: no SSDP, no HTTP ($LAB_UPNP_IGD)"
lab_sniff_start wan wan-ssdp "$SSDP_PORT" "$LAB_UPNP_HTTP_PORT"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
check_lan_is_answered
check_wan_ssdp_unanswered
check_wan_http_unanswered
# A restart sends ssdp:byebye and ssdp:alive; they must go out on the LAN side only.
lab_upnp_stop
lab_upnp_start
lab_upnp_discover lan || lab_fail "after the restart, no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
sleep 1
check_nothing_leaked
echo "PASS  the WAN side gets no SSDP or HTTP answer from the IGD ($LAB_UPNP_IGD)"
