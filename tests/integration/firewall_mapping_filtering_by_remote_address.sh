#!/usr/bin/env bash
# RFC 4787 REQ-8, filtering of a UDP mapping the LAN opened towards WAN host 1 (203.0.113.2):
#   address-dependent     WAN host 1 may send to it from another port; WAN host 2 (198.51.100.2)
#                         may not, and gatewayd logs that drop;
#   endpoint-independent  (a second start of gatewayd) WAN host 2 may send to it too.
# The LAN socket that opened the mapping is the one that listens, so an admitted datagram is seen.
# Daemon-only (the config is gatewayd's): skips under LAB_NAT=kernel (fails under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly ECHO_PORT=7001 LAN_PORT=41000 WAN_OTHER_PORT=42001 WAN2_PORT=42002

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the firewall is gatewayd's; LAB_NAT=${LAB_NAT:-}"

# firewall_config FILTERING
firewall_config() {
    cat <<EOF
lan: {interface: $LAB_GW_LAN_IF, networks: [$LAB_LAN_NET]}
wan: {interface: $LAB_GW_WAN_IF, address: auto}
firewall:
  filtering: $1
  policy: {inbound: drop, outbound: accept, input: drop}
  log_lines_per_second: 50
EOF
}

# open_mapping NAME: a LAN listener on LAN_PORT that first sends one datagram to WAN host 1's echo
# server; sets MAPPED_PORT to the external port the echo server saw.
open_mapping() {
    local answer
    ARRIVALS=$LAB_TMP/arrivals.$1
    lab_bg lan "listener-$1" "$LAB_PY" "$LAB_NET_PY" listen-log --port "$LAN_PORT" --log "$ARRIVALS" \
        --hello "$LAB_WAN_IP:$ECHO_PORT"
    LISTENER_PID=$LAB_BG_PID
    lab_wait_log "$ARRIVALS" "udp $LAB_WAN_IP:$ECHO_PORT " ||
        lab_fail "$1: the LAN socket $LAB_LAN_IP:$LAN_PORT got no answer from $LAB_WAN_IP:$ECHO_PORT"
    answer=$(awk -v from="$LAB_WAN_IP:$ECHO_PORT" '$1 == "udp" && $2 == from { print $3; exit }' "$ARRIVALS")
    [[ ${answer%:*} == "$LAB_GW_WAN_IP" ]] || lab_fail "$1: the echo server saw the LAN socket as '$answer'"
    MAPPED_PORT=${answer#*:}
    lab_ok "$1: $LAB_LAN_IP:$LAN_PORT → $LAB_WAN_IP:$ECHO_PORT opened the mapping $LAB_GW_WAN_IP:$MAPPED_PORT"
}

# send_to_mapping: WAN host 2 first, then WAN host 1 from a port the LAN never sent to.
send_to_mapping() {
    lab_py wan2 udp-send --source-port "$WAN2_PORT" "$LAB_GW_WAN_IP" "$MAPPED_PORT" from-wan2
    lab_py wan udp-send --source-port "$WAN_OTHER_PORT" "$LAB_GW_WAN_IP" "$MAPPED_PORT" from-wan-other-port
}

# expect_arrival FROM TEXT WHY
expect_arrival() {
    lab_wait_log "$ARRIVALS" "udp $1 $2" ||
        lab_fail "$3: the LAN socket did not get '$2' from $1; it got:"$'\n'"$(cat "$ARRIVALS")"
}

check_address_dependent() {
    expect_arrival "$LAB_WAN_IP:$WAN_OTHER_PORT" from-wan-other-port "address-dependent"
    lab_ok "address-dependent: $LAB_WAN_IP:$WAN_OTHER_PORT (the address the LAN sent to, another port) reached the LAN socket"
    lab_expect_decision drop policy udp "$LAB_WAN2_IP:$WAN2_PORT" "$LAB_GW_WAN_IP:$MAPPED_PORT" "address-dependent"
    [[ $LAB_DECISION == *" reason=filtered_by_mapping "* ]] ||
        lab_fail "address-dependent: WAN host 2's datagram was dropped, but not by the mapping's filter: $LAB_DECISION"
    # The drop is logged, so the datagram will never arrive.
    if grep -q from-wan2 "$ARRIVALS"; then
        lab_fail "address-dependent: WAN host 2 reached the mapping: $(grep from-wan2 "$ARRIVALS")"
    fi
    lab_ok "address-dependent: $LAB_WAN2_IP:$WAN2_PORT did not reach the LAN socket: $LAB_DECISION"
}

check_endpoint_independent() {
    expect_arrival "$LAB_WAN2_IP:$WAN2_PORT" from-wan2 "endpoint-independent"
    expect_arrival "$LAB_WAN_IP:$WAN_OTHER_PORT" from-wan-other-port "endpoint-independent"
    lab_ok "endpoint-independent: both $LAB_WAN2_IP:$WAN2_PORT and $LAB_WAN_IP:$WAN_OTHER_PORT reached the LAN socket"
}

lab_up --nat gatewayd --wan2 --config <(firewall_config address-dependent)
lab_heading "a UDP mapping towards WAN host 1, filtered address-dependent, then endpoint-independent"
lab_bg wan echo "$LAB_PY" "$LAB_NET_PY" udp-echo --port "$ECHO_PORT"
lab_wait_listen wan udp "$ECHO_PORT"

open_mapping address-dependent
send_to_mapping
check_address_dependent

lab_stop_pid "$LISTENER_PID"
lab_daemon_stop
lab_daemon_start --config <(firewall_config endpoint-independent)
open_mapping endpoint-independent
send_to_mapping
check_endpoint_independent
echo "PASS  a mapping admits WAN host 2 only under endpoint-independent filtering"
