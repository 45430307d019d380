#!/usr/bin/env bash
# ctest: sanitize
# IPv6 firewall pinholes through IGD:2's WANIPv6FirewallControl:1, with miniupnpc's upnpc as the
# control point on LAN hosts that have SLAAC-like addresses in the LAN's IPv6 prefix and talk to the
# IGD over IPv6 (upnpc -6 -u http://[gateway's link-local]/...): GetFirewallStatus and GetOutboundPinholeTimeout answer;
# AddPinhole grants UniqueIDs (the same one when the same pinhole is asked again), UpdatePinhole
# renews, DeletePinhole removes, a short lease ends by itself; every refusal carries the spec's code
# (402, 606, 701-708) and is counted; in secure mode a host opens pinholes only for its own address
# and never over IPv4; only the owner may renew or delete; gatewayctl status lists the pinholes and
# they survive a restart; allow_inbound false answers 703, enabled false 702. End to end through
# gatewayd's IPv6 firewall: the WAN host cannot connect to a LAN host until it opens a pinhole, can
# then (GetPinholePackets counts it, CheckPinholeWorking says so), and cannot once the pinhole is
# deleted or its lease has ended.
# gatewayd only: the reference miniupnpd-iptables package is built without its IPv6 firewall control.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "pinholes are tested against gatewayd only"

readonly PORT=46100 UDP_PORT=46110 E2E_PORT=46200 CALLBACK_PORT=8000 PER_CLIENT_LIMIT=3

# pinhole_upnpc ROLE ARGS...: upnpc over IPv6 from ROLE (its own IPv6 address is the requester).
pinhole_upnpc() {
    local role=$1
    shift
    lab_in "$role" upnpc -6 -u "$ROOT_URL6" "$@" 2>&1
}

# pinhole_soap ROLE ACTION NAME=VALUE...: one raw SOAP request over IPv6 from ROLE (upnpc -U first
# asks CheckPinholeWorking and renews only if it answers working or 709, and -D prints no code);
# prints "<HTTP status> <UPnP errorCode or ->", e.g. "200 -" or "500 606".
pinhole_soap() {
    local role=$1 action=$2 arg args=()
    shift 2
    for arg in "$@"; do args+=(--arg "$arg"); done
    # shellcheck disable=SC2153 # lab_upnp.sh's
    lab_in "$role" "$LAB_UPNP_PY" "$LAB_UPNP_CLIENT_PY" soap "$CONTROL_URL6" "$action" \
        --service urn:schemas-upnp-org:service:WANIPv6FirewallControl:1 "${args[@]}"
}

# expect_soap ANSWER WHAT ROLE ACTION NAME=VALUE...: pinhole_soap answers ANSWER ("200 -", "500 704");
# a refusal must also be counted.
expect_soap() {
    local expected=$1 what=$2 out before=0 key=''
    shift 2
    if [[ $expected == 500\ * ]]; then
        key=$(refusal_key "${expected#500 }")
        before=$(lab_upnp_refusals "$key")
    fi
    out=$(pinhole_soap "$@")
    [[ $out == "$expected" ]] || lab_fail "$what: expected '$expected', the IGD answered '$out'"
    if [[ -n $key ]]; then lab_upnp_expect_counted "$key" "$before" "$what: ${expected#500 }"; else lab_ok "$what"; fi
}

# add_pinhole ROLE REMOTE RPORT CLIENT IPORT PROTO LEASE: prints the UniqueID granted; fails the test
# with upnpc's output if none was.
add_pinhole() {
    local role=$1 out id
    shift
    out=$(pinhole_upnpc "$role" -A "$@") || true
    id=$(sed -n 's/.*Pinhole ID = \([0-9]*\).*/\1/p' <<<"$out")
    [[ -n $id ]] || lab_fail "AddPinhole $* from $role was refused:"$'\n'"$out"
    echo "$id"
}

# expect_code CODE WHAT ROLE UPNPC-ARGS...: upnpc (over IPv6 unless ROLE is 'lan-ipv4') fails with
# UPnP error CODE, and gatewayd counted it (upnp_refusals.soap_CODE_*).
expect_code() {
    local code=$1 what=$2 role=$3 out before key
    shift 3
    key=$(refusal_key "$code")
    before=$(lab_upnp_refusals "$key")
    if [[ $role == lan-ipv4 ]]; then out=$(lab_upnpc lan "$@" 2>&1) || true; else out=$(pinhole_upnpc "$role" "$@") || true; fi
    grep -q "failed with code $code " <<<"$out" || lab_fail "$what: expected UPnP error $code, upnpc said:"$'\n'"$out"
    lab_upnp_expect_counted "$key" "$before" "$what: $code"
}

# expect_refusal_logged TEXT: the daemon logged LAN host 1's AddPinhole refused with TEXT
# (the request, the code and the reason).
expect_refusal_logged() {
    local line="gatewayd: UPnP: AddPinhole from $HOST1_LINK_LOCAL refused: $1"
    lab_wait_log "$LAB_DAEMON_LOG" "$line" 2 ||
        lab_fail "the log lacks '$line'; its AddPinhole refusals:"$'\n'"$(grep 'AddPinhole.*refused' "$LAB_DAEMON_LOG" || true)"
}

refusal_key() {
    case $1 in
    402) echo soap_402_invalid_args ;;
    709) echo soap_709_no_traffic_received ;;
    501) echo soap_501_action_failed ;;
    606) echo soap_606_action_not_authorized ;;
    701) echo soap_701_pinhole_space_exhausted ;;
    702) echo soap_702_firewall_disabled ;;
    703) echo soap_703_inbound_pinhole_not_allowed ;;
    704) echo soap_704_no_such_entry ;;
    705) echo soap_705_protocol_not_supported ;;
    706) echo soap_706_internal_port_wildcarding_not_allowed ;;
    707) echo soap_707_protocol_wildcarding_not_allowed ;;
    708) echo soap_708_pinhole_wildcard_not_permitted_in_src_ip ;;
    *) lab_fail "refusal_key: no counter for $1" ;;
    esac
}

# The pinholes gatewayctl status lists, one "id client iport protocol owner" line each.
status_pinholes() {
    lab_ctl --json status | "$LAB_UPNP_PY" -c 'import json, sys
for p in json.load(sys.stdin)["upnp_pinholes"]:
    print(p["id"], p["internal_client"], p["internal_port"], p["protocol"], p["owner"])'
}

expect_listed() {
    local listing
    listing=$(status_pinholes)
    grep -qx "$1" <<<"$listing" || lab_fail "$2: gatewayctl status does not list '$1':"$'\n'"$listing"
}

expect_unlisted() {
    local listing
    listing=$(status_pinholes)
    ! grep -q "^$1 " <<<"$listing" || lab_fail "$2: gatewayctl status still lists pinhole $1:"$'\n'"$listing"
}

net6() {
    local role=$1
    shift
    lab_in "$role" /usr/bin/python3 "$LAB_DIR/labnet6.py" "$@"
}

# wan_reaches PORT: a TCP connection from the WAN host to LAN host 1's address in the LAN prefix,
# port PORT, gets its line echoed by the LAN host's echo server.
wan_reaches() { net6 wan tcp-ask "$HOST1_IP6" "$1" --timeout 1 >/dev/null 2>&1; }

check_end_to_end() {
    local id short
    lab_bg lan "echo6.$E2E_PORT" /usr/bin/python3 "$LAB_DIR/labnet6.py" tcp-echo --port "$E2E_PORT"
    lab_wait_listen lan tcp "$E2E_PORT"
    ! wan_reaches "$E2E_PORT" || lab_fail "the WAN host reached [$HOST1_IP6]:$E2E_PORT before any pinhole"
    lab_ok "without a pinhole the WAN host cannot connect to [$HOST1_IP6]:$E2E_PORT"
    id=$(add_pinhole lan "" 0 "$HOST1_IP6" "$E2E_PORT" TCP 3600)
    lab_poll 3 wan_reaches "$E2E_PORT" || lab_fail "pinhole $id open, but the WAN host still cannot connect to [$HOST1_IP6]:$E2E_PORT"
    lab_ok "AddPinhole $id (upnpc, over IPv6): the WAN host connects to [$HOST1_IP6]:$E2E_PORT"
    expect_soap "200 -" "CheckPinholeWorking after traffic came in" lan CheckPinholeWorking UniqueID="$id"
    local packets
    packets=$(pinhole_upnpc lan -K "$id")
    grep -qE "PinholePackets *= *[1-9]|Packets *= *[1-9]" <<<"$packets" ||
        lab_fail "GetPinholePackets $id after a connection came in: expected a count above 0, upnpc said:"$'\n'"$packets"
    lab_ok "GetPinholePackets $id: $(grep -oE '[Pp]ackets *= *[0-9]+' <<<"$packets" | head -1)"
    expect_soap "200 -" "DeletePinhole $id" lan DeletePinhole UniqueID="$id"
    sleep 0.5
    ! wan_reaches "$E2E_PORT" || lab_fail "pinhole $id deleted, but the WAN host still connects"
    lab_ok "DeletePinhole $id: the WAN host cannot connect any more"
    short=$(add_pinhole lan "" 0 "$HOST1_IP6" "$E2E_PORT" TCP 3)
    lab_poll 3 wan_reaches "$E2E_PORT" || lab_fail "the 3 s pinhole $short does not let the WAN host in"
    sleep 4
    ! wan_reaches "$E2E_PORT" || lab_fail "the 3 s pinhole $short still lets the WAN host in after 4 s"
    lab_ok "a 3 s pinhole lets the WAN host in, then its lease ends and the way is shut"
}

restart_with_pinhole_keys() {
    # shellcheck disable=SC2034 # read by _lab_upnp_gatewayd_config
    LAB_UPNP_EXTRA_KEYS=("pinholes={$1}")
    _lab_upnp_gatewayd_config 2 604800 true >"$LAB_TMP/upnp-gatewayd.yaml"
    lab_upnp_stop
    lab_daemon_start --config "$LAB_TMP/upnp-gatewayd.yaml"
}

check_description_over_ipv6() {
    local description
    description=$(lab_in lan curl -gsS --max-time 3 "$ROOT_URL6") || lab_fail "GET $ROOT_URL6 from LAN host 1 failed"
    grep -q 'urn:schemas-upnp-org:service:WANIPv6FirewallControl:1' <<<"$description" ||
        lab_fail "the IGD:2 description names no WANIPv6FirewallControl:1:"$'\n'"$description"
    ! grep -q '<URLBase>' <<<"$description" || lab_fail "the IGD:2 description pins its URLs with URLBase"
    lab_ok "root description over IPv6: WANIPv6FirewallControl:1, no URLBase"
    # pupnp's IPv6 server listens on every interface: the WAN side must not reach it
    # (a WAN neighbour could otherwise SUBSCRIBE or ask for pinholes).
    local wan_url="http://[$LAB_GW_WAN6_IP]:49152/igd/rootDesc.xml"
    if lab_in wan curl -gsS --max-time 2 "$wan_url" >/dev/null 2>&1; then
        lab_fail "the WAN host fetched $wan_url: UPnP answers the WAN over IPv6"
    fi
    lab_ok "the WAN host gets nothing from the UPnP port over IPv6 ($wan_url)"
}

check_firewall_status() {
    local out outside_lan
    outside_lan=$(lab_upnp_refusals outside_lan)
    out=$(pinhole_upnpc lan -S)
    # upnpc -S also asks WANCommonInterfaceConfig over IPv6: refused (606), but not as a host outside the LAN.
    [[ $(lab_upnp_refusals outside_lan) == "$outside_lan" ]] ||
        lab_fail "a LAN host over IPv6 was counted as outside the LAN: $(lab_upnp_refusals outside_lan)"
    grep -qiE 'FirewallEnabled: 1 .*Inbound Pinhole Allowed: 1' <<<"$out" ||
        lab_fail "GetFirewallStatus: expected enabled and inbound allowed, upnpc said:"$'\n'"$out"
    out=$(pinhole_upnpc lan -G "" 0 "$HOST1_IP6" "$PORT" 17)  # -G passes the protocol as written
    grep -qE 'Timeout = 300$' <<<"$out" ||
        lab_fail "GetOutboundPinholeTimeout UDP: expected the 300 s UDP idle timeout, upnpc said:"$'\n'"$out"
    lab_ok "GetFirewallStatus: enabled, inbound allowed; GetOutboundPinholeTimeout UDP: 300 s"
}

# GENA: a subscriber to WANIPv6FirewallControl gets FirewallEnabled and InboundPinholeAllowed.
check_initial_event() {
    local url status
    url=$(lab_upnp_service_url lan WANIPv6FirewallControl eventSubURL) ||
        lab_fail "no eventSubURL for WANIPv6FirewallControl in the root description"
    lab_upnp_listen lan "$CALLBACK_PORT"
    status=$(lab_upnp_py lan http "$url" --method SUBSCRIBE --header "CALLBACK: <http://$LAB_LAN_IP:$CALLBACK_PORT/>" \
        --header "NT: upnp:event" --header "TIMEOUT: Second-300") || true
    [[ $status == "HTTP/1.1 200"* ]] || lab_fail "SUBSCRIBE to $url was answered: $status"
    lab_wait_log "$LAB_TMP/arrivals.lan.$CALLBACK_PORT" "<FirewallEnabled>1</FirewallEnabled>" 5 ||
        lab_fail "no initial event with FirewallEnabled 1 reached the subscriber:"$'\n'"$(cat "$LAB_TMP/arrivals.lan.$CALLBACK_PORT" 2>/dev/null)"
    grep -q "<InboundPinholeAllowed>1</InboundPinholeAllowed>" "$LAB_TMP/arrivals.lan.$CALLBACK_PORT" ||
        lab_fail "the initial event lacks InboundPinholeAllowed 1:"$'\n'"$(cat "$LAB_TMP/arrivals.lan.$CALLBACK_PORT")"
    lab_ok "SUBSCRIBE to WANIPv6FirewallControl: initial event FirewallEnabled 1, InboundPinholeAllowed 1"
}

check_grants() {
    TCP_ID=$(add_pinhole lan "" 0 "$HOST1_IP6" "$PORT" TCP 3600)
    local again udp
    again=$(add_pinhole lan "" 0 "$HOST1_IP6" "$PORT" TCP 7200)
    [[ $again == "$TCP_ID" ]] || lab_fail "the same pinhole asked again got UniqueID $again, not $TCP_ID"
    udp=$(add_pinhole lan "" 0 "$HOST1_IP6" "$UDP_PORT" UDP 3600)
    [[ $udp != "$TCP_ID" ]] || lab_fail "a second pinhole got the first one's UniqueID $udp"
    UDP_ID=$udp
    expect_listed "$TCP_ID $HOST1_IP6 $PORT 6 $HOST1_LINK_LOCAL" "AddPinhole TCP"
    expect_listed "$UDP_ID $HOST1_IP6 $UDP_PORT 17 $HOST1_LINK_LOCAL" "AddPinhole UDP"
    lab_ok "AddPinhole: TCP → UniqueID $TCP_ID (the same when asked again), UDP → $UDP_ID; gatewayctl status lists both"
}

check_refusals() {
    expect_code 402 "LeaseTime 0" lan -A "" 0 "$HOST1_IP6" "$PORT" TCP 0
    expect_code 402 "LeaseTime 86401" lan -A "" 0 "$HOST1_IP6" "$PORT" TCP 86401
    expect_code 402 "a link-local InternalClient" lan -A "" 0 fe80::10 "$PORT" TCP 60
    expect_code 708 "an empty InternalClient" lan -A "" 0 "" "$PORT" TCP 60
    expect_code 705 "protocol 50 (ESP)" lan -A "" 0 "$HOST1_IP6" "$PORT" 50 60
    expect_code 707 "protocol 65535 (any)" lan -A "" 0 "$HOST1_IP6" "$PORT" 65535 60
    expect_code 706 "InternalPort 0" lan -A "" 0 "$HOST1_IP6" 0 TCP 60
    expect_code 606 "secure mode: LAN host 2's address from LAN host 1" lan -A "" 0 "$HOST2_IP6" "$PORT" TCP 60
    expect_code 606 "secure mode: a privileged port" lan -A "" 0 "$HOST1_IP6" 80 TCP 60
    expect_code 606 "the gateway's own address" lan -A "" 0 "$LAB_GW_LAN6_IP" "$PORT" TCP 60
    # Each 606 above has its own reason in the log line (docs/troubleshooting.md).
    expect_refusal_logged "TCP [$HOST2_IP6]:$PORT from any: 606 Action not authorized (secure mode: a host may open pinholes only to its own address)"
    expect_refusal_logged "TCP [$HOST1_IP6]:80 from any: 606 Action not authorized (secure mode: an internal port below 1024 (0 included))"
    expect_refusal_logged "TCP [$LAB_GW_LAN6_IP]:$PORT from any: 606 Action not authorized (the internal client is the gateway's own address)"
    expect_code 606 "secure mode: a request over IPv4" lan-ipv4 -A "" 0 "$HOST1_IP6" "$PORT" TCP 60
    expect_soap "500 606" "UpdatePinhole by another host" lan2 UpdatePinhole UniqueID="$TCP_ID" NewLeaseTime=60
    expect_soap "500 606" "DeletePinhole by another host" lan2 DeletePinhole UniqueID="$TCP_ID"
    expect_soap "500 606" "GetPinholePackets by another host" lan2 GetPinholePackets UniqueID="$TCP_ID"
    expect_soap "500 704" "DeletePinhole of an unknown UniqueID" lan DeletePinhole UniqueID=4242
    expect_soap "500 402" "UpdatePinhole with a lease of 0" lan UpdatePinhole UniqueID="$TCP_ID" NewLeaseTime=0
    expect_soap "500 402" "a UniqueID that is no ui2" lan DeletePinhole UniqueID=65536
    add_pinhole lan "" 0 "$HOST1_IP6" $((PORT + 1)) TCP 3600 >/dev/null  # the third of PER_CLIENT_LIMIT
    expect_code 701 "a fourth pinhole over the per-client limit of $PER_CLIENT_LIMIT" lan -A "" 0 "$HOST1_IP6" $((PORT + 2)) TCP 60
    add_pinhole lan2 "" 0 "$HOST2_IP6" "$PORT" TCP 3600 >/dev/null  # another host has its own allowance
    lab_ok "refusals: 402, 606, 701, 704-708 as the spec says, each counted; each 606 logged with its reason"
}

check_update_and_packets() {
    expect_soap "200 -" "UpdatePinhole $TCP_ID by its owner" lan UpdatePinhole UniqueID="$TCP_ID" NewLeaseTime=600
    if [[ $PACKET_PATH == pinholes ]]; then
        expect_soap "200 -" "GetPinholePackets of an unused pinhole" lan GetPinholePackets UniqueID="$TCP_ID"
        expect_soap "500 709" "CheckPinholeWorking before any packet" lan CheckPinholeWorking UniqueID="$TCP_ID"
    else
        # The packet path of this branch does not count pinholes: the query goes unanswered, so 501.
        expect_soap "500 501" "GetPinholePackets without a packet path that counts pinholes" lan GetPinholePackets \
            UniqueID="$TCP_ID"
        expect_soap "500 501" "CheckPinholeWorking without a packet path that counts pinholes" lan \
            CheckPinholeWorking UniqueID="$TCP_ID"
    fi
}

check_restart_keeps_pinholes() {
    lab_upnp_stop
    lab_upnp_start
    expect_listed "$TCP_ID $HOST1_IP6 $PORT 6 $HOST1_LINK_LOCAL" "after a restart"
    expect_soap "200 -" "after a restart, UpdatePinhole $TCP_ID by its owner" lan UpdatePinhole UniqueID="$TCP_ID" \
        NewLeaseTime=600
    lab_ok "a restart keeps the pinholes and their UniqueIDs"
}

check_delete_and_expiry() {
    local short
    expect_soap "200 -" "DeletePinhole $UDP_ID by its owner" lan DeletePinhole UniqueID="$UDP_ID"
    expect_unlisted "$UDP_ID" "DeletePinhole"
    expect_soap "500 704" "UpdatePinhole of a deleted pinhole" lan UpdatePinhole UniqueID="$UDP_ID" NewLeaseTime=60
    short=$(add_pinhole lan "" 0 "$HOST1_IP6" "$UDP_PORT" UDP 2)
    expect_listed "$short $HOST1_IP6 $UDP_PORT 17 $HOST1_LINK_LOCAL" "a 2 s pinhole"
    sleep 3
    expect_unlisted "$short" "a 2 s pinhole after 3 s"
    grep -q "pinhole $short lease ended" "$LAB_DAEMON_LOG" || lab_fail "no 'lease ended' log line for pinhole $short"
    expect_soap "500 704" "UpdatePinhole of an expired pinhole" lan UpdatePinhole UniqueID="$short" NewLeaseTime=60
    lab_ok "DeletePinhole removes; a 2 s lease ends by itself (logged, unlisted, 704 after)"
}

check_inbound_not_allowed_and_disabled() {
    restart_with_pinhole_keys "allow_inbound: false"
    local out
    out=$(pinhole_upnpc lan -S)
    grep -qiE 'FirewallEnabled: 1 .*Inbound Pinhole Allowed: 0' <<<"$out" ||
        lab_fail "GetFirewallStatus with allow_inbound false, upnpc said:"$'\n'"$out"
    expect_code 703 "allow_inbound false" lan -A "" 0 "$HOST1_IP6" "$PORT" TCP 60
    restart_with_pinhole_keys "enabled: false"
    expect_code 702 "enabled false" lan -A "" 0 "$HOST1_IP6" "$PORT" TCP 60
    expect_soap "500 702" "enabled false, UpdatePinhole" lan UpdatePinhole UniqueID="$TCP_ID" NewLeaseTime=60
    lab_ok "allow_inbound false: InboundPinholeAllowed 0 and 703; enabled false: 702"
}

PACKET_PATH=pinholes  # the IPv6 firewall (h-v6fw) counts each pinhole's packets
lab_upnp_up --igd-version 2 --lan-hosts 2 --ipv6-lan \
    --upnp-key "pinholes={per_client_limit: $PER_CLIENT_LIMIT, max_pinholes: 16}"
HOST1_IP6=$(lab_upnp_lan_ip6 1)
HOST2_IP6=$(lab_upnp_lan_ip6 2)
HOST1_LINK_LOCAL=$(lab_upnp_link_local lan)  # the requester: pupnp serves IPv6 on link-local only
ROOT_URL6=$(lab_upnp_url6)
# The control URL with the zone as Python's socket layer reads it (a bare '%').
CONTROL_URL6="http://[$(lab_upnp_link_local gw)%$LAB_HOST_IF]:$LAB_UPNP_HTTP_PORT/ctl/IP6FCtl"
readonly HOST1_IP6 HOST2_IP6 HOST1_LINK_LOCAL ROOT_URL6 CONTROL_URL6
lab_heading "IGD:2 WANIPv6FirewallControl: pinholes over IPv6 with upnpc ($LAB_UPNP_IGD)"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
check_description_over_ipv6
check_firewall_status
check_initial_event
check_grants
check_refusals
check_update_and_packets
check_restart_keeps_pinholes
check_delete_and_expiry
check_end_to_end
check_inbound_not_allowed_and_disabled
echo "PASS  IGD:2 pinholes granted, renewed, deleted, expired and refused with the spec's codes, and they open and shut the IPv6 firewall ($LAB_UPNP_IGD)"
