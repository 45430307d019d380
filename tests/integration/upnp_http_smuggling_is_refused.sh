#!/usr/bin/env bash
# ctest: sanitize
# HTTP head smuggling past a segment-by-segment guard (issue 14 item 2). From LAN host 1, with raw
# sockets, each disguise pupnp's parser tolerates: leading blank lines, TABs for the separators,
# the head cut into 3-byte segments sent apart, and a hostile request pipelined after a good GET;
# each once with a foreign Host (DNS rebinding) and once as a SUBSCRIBE with a WAN CALLBACK
# (CallStranger). The IGD's front end reads the whole head as http-parser does and refuses them
# all (never 2xx), counts them (upnp_refusals.http_foreign_host, http_callback_not_requester,
# http_pipelined), and after an evented mapping change no packet reaches the WAN callback. LAN host
# 2's upnpc keeps working throughout.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
# shellcheck source=SCRIPTDIR/../lab/lab_http_attacks.sh
source "$LAB_DIR/lab_http_attacks.sh"

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the front end's counters are tested here"
readonly CALLBACK_PORT=8000 MAPPING_PORT=47300 LEGIT_PORT=47301

refused_total() {
    local total=0 key
    for key in http_foreign_host http_callback_not_requester http_pipelined http_malformed; do
        total=$((total + $(lab_upnp_refusals "$key")))
    done
    echo "$total"
}

lab_upnp_up --lan-hosts 2
lab_heading "UPnP HTTP: smuggled heads are judged whole and refused ($LAB_UPNP_IGD)"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
CONTROL_URL=$(lab_upnp_service_url lan WANIPConnection controlURL) || lab_fail "no WANIPConnection controlURL"
EVENT_URL=$(lab_upnp_service_url lan WANIPConnection eventSubURL) || lab_fail "no WANIPConnection eventSubURL"
lab_sniff_start wan wan-callback "$CALLBACK_PORT"
rss_before=$(lab_http_rss_kb)

for variant in crlf tab split pipelined; do
    for kind in host callback; do
        url=$CONTROL_URL
        [[ $kind == host ]] || url=$EVENT_URL
        before=$(refused_total)
        status=$(lab_http lan smuggle "$url" "$variant" "$kind" --callback "http://$LAB_WAN_IP:$CALLBACK_PORT/")
        # A pipelined pair may get the good GET's answer first: what matters is that the
        # hostile second request is refused, which the counter shows.
        if [[ $variant != pipelined ]]; then
            [[ $status == "HTTP/1.1 4"* ]] || lab_fail "$variant/$kind: expected a 4xx refusal, got '$status'"
        fi
        [[ $status != "HTTP/1."?" 2"* || $variant == pipelined ]] || lab_fail "$variant/$kind was served: $status"
        after=$(refused_total)
        ((after > before)) || lab_fail "$variant/$kind: answered '$status' but no refusal was counted"
        lab_ok "$variant/$kind → $status (refusals $before -> $after)"
    done
done
lab_http_legit_client_works lan2 "$LEGIT_PORT" "LAN host 2 after the smuggling attempts"

# pupnp's own server (upnp.http_port + 1) is for the front end alone: from the LAN it must not
# even answer a SYN (GATEWAYD_LOOPBACK_ONLY drops it).
pupnp_port=$((LAB_UPNP_HTTP_PORT + 1))
lab_gw ss -Htln "sport = :$pupnp_port" | grep -q . || lab_fail "nothing listens on pupnp's port $pupnp_port"
if lab_in lan "$LAB_UPNP_PY" -c 'import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()' "$LAB_GW_LAN_IP" "$pupnp_port" 2>/dev/null; then
    lab_fail "LAN host 1 connected to pupnp's own port $LAB_GW_LAN_IP:$pupnp_port, past the front end"
fi
lab_ok "pupnp listens on $pupnp_port, and LAN host 1 cannot connect to it"

# An evented change: any subscription the smuggling had won would now send a NOTIFY to the WAN.
out=$(lab_upnp_py lan add "$MAPPING_PORT" TCP "$MAPPING_PORT" --lease 600) || lab_fail "AddPortMapping: $out"
out=$(lab_upnp_py lan delete "$MAPPING_PORT" TCP) || lab_fail "DeletePortMapping: $out"
sleep 3
seen=$(lab_sniffed wan-callback)
[[ -z $seen ]] || lab_fail "the gateway sent packets to the WAN callback $LAB_WAN_IP:$CALLBACK_PORT:"$'\n'"$seen"
lab_ok "after an evented change, the WAN host saw no packet towards port $CALLBACK_PORT"
lab_http_expect_rss_within "$rss_before" 64 "after the smuggling attempts"
kill -0 "$LAB_DAEMON_PID" 2>/dev/null || lab_fail "gatewayd is gone"
echo "PASS  smuggled HTTP heads are refused, and LAN host 2 keeps working ($LAB_UPNP_IGD)"
