#!/usr/bin/env bash
# ctest: sanitize
# Hostile or broken SOAP from a LAN client: each request gets the UPnP error the specs give (UDA 1.0
# 3.2.2, WANIPConnection v1/v2) and is counted under its reason in gatewayctl status
# (upnp_refusals), and none of it takes the daemon down: a good request is granted afterwards.
#   missing, extra or mistyped arguments, a ui2 beyond 65535 → 402; NewProtocol ICMP → 601;
#   a description over 1024 bytes → 605; an unknown action → 401; an index past the end → 713;
#   XML that does not parse, pupnp 1.8.4's ixmlParseBuffer crash input and nesting deeper than 16
#   levels → HTTP 400 from the front end's XML vetting (http_bad_xml), never forwarded to pupnp
#   (http_forwarded stays); a body declared larger than 16 KiB → 413 from the front end
#   (http_too_large).
# gatewayd only: the counters are what is tested.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
# shellcheck source=SCRIPTDIR/../lab/lab_http_attacks.sh
source "$LAB_DIR/lab_http_attacks.sh"

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "gatewayd's refusal counters are tested here"

lab_upnp_up --lan-hosts 2
lab_heading "UPnP: malformed and hostile SOAP is refused with the right code and counted ($LAB_UPNP_IGD)"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
CONTROL=$(lab_upnp_service_url lan WANIPConnection controlURL) || lab_fail "no WANIPConnection controlURL"
rss_before=$(lab_http_rss_kb)

# add_args PORT PROTOCOL [DESCRIPTION]: AddPortMapping's eight arguments, in order.
add_args() {
    echo --arg NewRemoteHost= --arg "NewExternalPort=$1" --arg "NewProtocol=$2" --arg "NewInternalPort=41000"
    echo --arg "NewInternalClient=$LAB_LAN_IP" --arg NewEnabled=1 --arg "NewPortMappingDescription=${3:-bad-soap}"
    echo --arg NewLeaseDuration=600
}

# expect ANSWER COUNTER WHAT ACTION ARGS...: labupnp.py soap prints ANSWER ("500 402", "400 -",
# "no answer") and upnp_refusals.COUNTER grows by one.
expect() {
    local answer=$1 counter=$2 what=$3 before out
    shift 3
    before=$(lab_upnp_refusals "$counter")
    out=$(lab_upnp_py lan soap "$CONTROL" "$@") || true
    [[ $out == "$answer"* ]] || lab_fail "$what: expected '$answer', the IGD answered '$out'"
    lab_upnp_expect_counted "$counter" "$before" "$what → $out"
}

# shellcheck disable=SC2046 # add_args's words are meant to split
{
    expect "500 402" soap_402_invalid_args "AddPortMapping without NewLeaseDuration" \
        AddPortMapping $(add_args 41000 TCP | head -n 2)
    expect "500 402" soap_402_invalid_args "AddPortMapping with an extra argument" \
        AddPortMapping $(add_args 41000 TCP) --arg NewColour=blue
    expect "500 402" soap_402_invalid_args "AddPortMapping with NewExternalPort 'abc'" \
        AddPortMapping $(add_args abc TCP)
    expect "500 402" soap_402_invalid_args "AddPortMapping with NewExternalPort 70000 (ui2)" \
        AddPortMapping $(add_args 70000 TCP)
    expect "500 601" soap_601_argument_value_out_of_range "AddPortMapping with NewProtocol ICMP" \
        AddPortMapping $(add_args 41000 ICMP)
    expect "500 605" soap_605_string_argument_too_long "AddPortMapping with a 2000-byte description" \
        AddPortMapping $(add_args 41000 TCP "$(printf 'd%.0s' {1..2000})")
}
expect "500 401" soap_401_invalid_action "an action the service does not have" FlyToTheMoon
expect "500 713" soap_713_specified_array_index_invalid "GetGenericPortMappingEntry past the end" \
    GetGenericPortMappingEntry --arg NewPortMappingIndex=5000
forwarded_before=$(lab_upnp_refusals http_forwarded)
expect "400 -" http_bad_xml "a body that is not XML" AddPortMapping --body "this is not <xml"
expect "400 -" http_bad_xml "an envelope cut off in the middle" AddPortMapping \
    --body '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:AddPortMapping'
# The 48 bytes that crashed pupnp's ixmlParseBuffer (issue 14 item 11), and two of its kind.
expect "400 -" http_bad_xml "pupnp's ixmlParseBuffer crash input" AddPortMapping \
    --body "$(printf '<?v"?>\r\n<s:Envelope xmlns:s="1"><Nmo.1.1pe>\r\n&#x')"
expect "400 -" http_bad_xml "an unterminated character reference" AddPortMapping \
    --body '<s:Envelope xmlns:s="1"><s:Body><a>&#x41</a></s:Body></s:Envelope>'
expect "400 -" http_bad_xml "an entity declared in a DOCTYPE" AddPortMapping \
    --body '<!DOCTYPE a [<!ENTITY b "bbbbbbbb"><!ENTITY c "&b;&b;&b;&b;">]><a>&c;</a>'
expect "400 -" http_bad_xml "2000 nested elements (14 KB)" AddPortMapping \
    --body "$(printf '<e>%.0s' {1..2000})$(printf '</e>%.0s' {1..2000})"
forwarded_after=$(lab_upnp_refusals http_forwarded)
((forwarded_after == forwarded_before)) ||
    lab_fail "requests the XML vetting refused reached pupnp (http_forwarded $forwarded_before -> $forwarded_after)"
lab_ok "none of the refused bodies reached pupnp (http_forwarded stayed at $forwarded_after)"
expect "413 -" http_too_large "a body declared at 100 000 bytes" AddPortMapping --content-length 100000
expect "413 -" http_too_large "a 20 000-byte envelope" AddPortMapping --pad 20000

kill -0 "$LAB_DAEMON_PID" 2>/dev/null || lab_fail "gatewayd is gone after the bad requests"
# shellcheck disable=SC2046
out=$(lab_upnp_py lan soap "$CONTROL" AddPortMapping $(add_args 41000 TCP good)) || true
[[ $out == "200 -" ]] || lab_fail "after the bad requests, a good AddPortMapping got '$out'"
lab_upnp_expect_listed lan TCP 41000 "$LAB_LAN_IP:41000" "after the bad requests"
lab_ok "gatewayd still runs and grants a good AddPortMapping afterwards"
lab_http_legit_client_works lan2 41001 "LAN host 2 after the bad requests"
lab_http_expect_rss_within "$rss_before" 64 "after the bad requests"
echo "PASS  malformed and hostile SOAP is refused with the right codes and counted ($LAB_UPNP_IGD)"
