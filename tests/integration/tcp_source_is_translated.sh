#!/usr/bin/env bash
# (a) TCP from the LAN leaves with the gateway's WAN address: an HTTP request reaches a WAN server
# that reports the peer it saw, and an iperf3 stream carries data LAN→WAN.
# LAB_NAT=gatewayd (default) or kernel (iptables MASQUERADE, to check the test itself).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly HTTP_PORT=8080 IPERF_PORT=5201

check_http_peer_is_gateway() {
    local url="http://$LAB_WAN_IP:$HTTP_PORT/" peer
    # --noproxy: a proxy from the environment would make the test about the proxy, not the NAT.
    peer=$(lab_lan curl -sS --noproxy '*' -m 5 "$url") || lab_fail "curl from the LAN host to $url failed"
    [[ ${peer%:*} == "$LAB_GW_WAN_IP" ]] ||
        lab_fail "the WAN server saw the request come from '$peer'; expected $LAB_GW_WAN_IP (the gateway's WAN address)"
    lab_ok "curl LAN→WAN: the WAN server saw the peer $peer (the gateway's WAN address)"
}

check_iperf_carries_data() {
    local json bytes
    json=$(lab_lan timeout 20 iperf3 -c "$LAB_WAN_IP" -p "$IPERF_PORT" -t 2 -J) ||
        lab_fail "iperf3 TCP LAN→WAN failed: $(printf '%s' "$json" | lab_json error 2>/dev/null || echo "no output")"
    bytes=$(printf '%s' "$json" | lab_json end.sum_received.bytes)
    ((bytes > 0)) || lab_fail "iperf3 TCP LAN→WAN: the WAN side received $bytes bytes"
    lab_ok "iperf3 TCP LAN→WAN for 2 s: the WAN side received $bytes bytes"

    # The server's own log names the peer: the data connections must be translated too.
    lab_wait_log "$LAB_TMP/iperf.log" "Accepted connection from" ||
        lab_fail "the iperf3 server logged no connection: $(cat "$LAB_TMP/iperf.log")"
    if grep -E 'from|connected to' "$LAB_TMP/iperf.log" | grep -vq "$LAB_GW_WAN_IP"; then
        lab_fail "the iperf3 server saw a peer other than $LAB_GW_WAN_IP: $(grep -E 'from|connected to' "$LAB_TMP/iperf.log")"
    fi
    lab_ok "iperf3 server saw only $LAB_GW_WAN_IP as its peer"
}

lab_up --nat "${LAB_NAT:-gatewayd}"
lab_heading "TCP LAN→WAN through the NAT ($LAB_NAT_MODE)"
lab_bg wan http "$LAB_PY" "$LAB_NET_PY" http-peer --port "$HTTP_PORT"
lab_bg wan iperf iperf3 -s -1 -p "$IPERF_PORT" --forceflush
lab_wait_listen wan tcp "$HTTP_PORT"
lab_wait_listen wan tcp "$IPERF_PORT"

check_http_peer_is_gateway
check_iperf_carries_data
echo "PASS  TCP is translated to $LAB_GW_WAN_IP ($LAB_NAT_MODE)"
