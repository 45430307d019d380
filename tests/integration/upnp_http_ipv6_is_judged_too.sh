#!/usr/bin/env bash
# ctest: sanitize
# The IGD's HTTP front end judges IPv6 requests as it judges IPv4 ones (issue 14): over IPv6 to
# the gateway's link-local address, LAN host 1 fetches the description (the control), then is
# refused a foreign Host (DNS rebinding, http_foreign_host) and the gateway's IPv4 Host, a
# SUBSCRIBE (pupnp 1.8 never delivers events to IPv6 subscribers: refused at SUBSCRIBE, 501,
# http_subscribe_over_ipv6), and pupnp's ixmlParseBuffer crash input as a SOAP body
# (http_bad_xml). LAN host 2's upnpc works over IPv4 afterwards.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
# shellcheck source=SCRIPTDIR/../lab/lab_http_attacks.sh
source "$LAB_DIR/lab_http_attacks.sh"

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "gatewayd's IPv6 front end is tested here"
readonly LEGIT_PORT=47600

# over6 ARGS...: labupnp.py http from LAN host 1 to URL6 (a path on the gateway's link-local address).
over6() {
    local path=$1
    shift
    lab_in lan "$LAB_UPNP_PY" "$LAB_UPNP_CLIENT_PY" http "$BASE6$path" "$@" || true
}

# expect6 COUNTER EXPECTED-STATUS WHAT PATH ARGS...
expect6() {
    local counter=$1 expected=$2 what=$3 before status
    shift 3
    before=$(lab_upnp_refusals "$counter")
    status=$(over6 "$@")
    [[ $status == "HTTP/1.1 $expected"* ]] || lab_fail "$what over IPv6: expected $expected, got '$status'"
    lab_upnp_expect_counted "$counter" "$before" "$what over IPv6 → $status"
}

lab_upnp_up --igd-version 2 --lan-hosts 2 --ipv6-lan
lab_heading "UPnP HTTP over IPv6: the same judgement ($LAB_UPNP_IGD)"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
BASE6="http://[$(lab_upnp_link_local gw)%$LAB_HOST_IF]:$LAB_UPNP_HTTP_PORT"
EVENT_PATH=$(lab_upnp_service_url lan WANIPConnection eventSubURL | sed -E 's#^http://[^/]+##')

status=$(over6 /igd/rootDesc.xml)
[[ $status == "HTTP/1.1 200"* ]] || lab_fail "control: the description over IPv6 with its own Host was answered '$status'"
lab_ok "control: GET the description over IPv6 → $status"
expect6 http_foreign_host 400 "Host: evil.example" /igd/rootDesc.xml --host "evil.example:$LAB_UPNP_HTTP_PORT"
expect6 http_foreign_host 400 "the gateway's IPv4 Host" /igd/rootDesc.xml --host "$LAB_GW_LAN_IP:$LAB_UPNP_HTTP_PORT"
expect6 http_subscribe_over_ipv6 501 "SUBSCRIBE" "$EVENT_PATH" --method SUBSCRIBE \
    --header "CALLBACK: <http://[$(lab_upnp_link_local lan)]:8000/>" --header "NT: upnp:event"
expect6 http_bad_xml 400 "pupnp's ixmlParseBuffer crash input" /ctl/IP6FCtl --method POST \
    --header 'SOAPAction: "urn:schemas-upnp-org:service:WANIPv6FirewallControl:1#GetFirewallStatus"' \
    --body "$(printf '<?v"?>\r\n<s:Envelope xmlns:s="1"><Nmo.1.1pe>\r\n&#x')"
lab_http_legit_client_works lan2 "$LEGIT_PORT" "LAN host 2 afterwards"
kill -0 "$LAB_DAEMON_PID" 2>/dev/null || lab_fail "gatewayd is gone"
echo "PASS  IPv6 requests get the same judgement ($LAB_UPNP_IGD)"
