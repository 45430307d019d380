#!/usr/bin/env bash
# ctest: sanitize
# kill -9 under traffic loses nothing: with a UDP stream running LAN→WAN, two UPnP mappings
# (added with upnpc) and a timed forward (gatewayctl forwards add --for), gatewayd is killed with
# SIGKILL. While it is down nothing crosses in either direction (fail-closed); the next start
# leaves exactly one set of GATEWAYD rules (no stale chain or jump from the killed one); and
# afterwards both UPnP mappings and the timed forward are back, with time left, and still work.
# Daemon-only: skips under LAB_NAT=kernel (fails under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly UDP_PORT=45000 TCP_PORT=45001 FORWARD_PORT=5000 ECHO_PORT=7001 LEASE=3600 FORWARD_SECONDS=120

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "SIGKILL recovery is gatewayd's; LAB_NAT=${LAB_NAT:-}"

gateway_rules() { lab_gw iptables-save | sed -e '/^#/d' -e 's/ \[[0-9]*:[0-9]*\]$//'; }

# timed_forward_left: the seconds `gatewayctl mappings` shows left on the timed forward (its
# expires_in_seconds column, before the packets and bytes), or nothing.
timed_forward_left() {
    lab_ctl mappings | awk -v port="$FORWARD_PORT" '$1 == "keep-open" && $3 == port { print $6 }'
}

lab_upnp_up
lab_heading "SIGKILL under traffic: fail-closed while down, nothing lost after the restart"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
lab_upnp_listen lan "$UDP_PORT"
lab_upnp_listen lan "$TCP_PORT"
lab_upnp_listen lan "$FORWARD_PORT"
out=$(lab_upnpc lan -e keep-udp -a "$LAB_LAN_IP" "$UDP_PORT" "$UDP_PORT" UDP "$LEASE") || lab_fail "upnpc -a UDP $UDP_PORT: $out"
out=$(lab_upnpc lan -e keep-tcp -a "$LAB_LAN_IP" "$TCP_PORT" "$TCP_PORT" TCP "$LEASE") || lab_fail "upnpc -a TCP $TCP_PORT: $out"
out=$(lab_ctl forwards add keep-open tcp "$FORWARD_PORT" "$LAB_LAN_IP:$FORWARD_PORT" --for "${FORWARD_SECONDS}s") ||
    lab_fail "forwards add: $out"
lab_upnp_expect_open lan udp "$UDP_PORT" "$UDP_PORT" "UDP $UDP_PORT before the kill"
lab_upnp_expect_open lan tcp "$TCP_PORT" "$TCP_PORT" "TCP $TCP_PORT before the kill"
lab_upnp_expect_open lan tcp "$FORWARD_PORT" "$FORWARD_PORT" "the timed forward before the kill"
lab_ok "UPnP UDP $UDP_PORT, TCP $TCP_PORT and timed forward tcp $FORWARD_PORT (${FORWARD_SECONDS}s) open"

# Traffic while it dies: a UDP stream from the LAN host (iperf3 if present, else a sender loop).
lab_bg wan echo "$LAB_PY" "$LAB_NET_PY" udp-echo --port "$ECHO_PORT"
lab_wait_listen wan udp "$ECHO_PORT"
lab_expect_traffic_flows "$ECHO_PORT" "precondition, while gatewayd runs"
lab_bg lan stream bash -c "while :; do $LAB_PY $LAB_NET_PY udp-send $LAB_WAN_IP $ECHO_PORT stream >/dev/null 2>&1; sleep 0.02; done"
fresh_rules=$(gateway_rules)
sleep 1

lab_daemon_kill9
lab_expect_traffic_blocked "$ECHO_PORT" "LAN→WAN after SIGKILL (must fail closed)"
lab_upnp_expect_closed lan udp "$UDP_PORT" "$UDP_PORT" "WAN→LAN through the UPnP mapping after SIGKILL"
lab_upnp_expect_closed lan tcp "$FORWARD_PORT" "$FORWARD_PORT" "WAN→LAN through the timed forward after SIGKILL"
lab_ok "while down: nothing crosses LAN→WAN or WAN→LAN"

lab_daemon_start
restarted_rules=$(gateway_rules)
[[ $restarted_rules == "$fresh_rules" ]] ||
    lab_fail "the rules after restart differ from before the kill:"$'\n'"$(diff <(echo "$fresh_rules") <(echo "$restarted_rules") || true)"
duplicated=$(lab_gw iptables-save -t mangle | grep -E -- "^-A [A-Z]+ .*-j GATEWAYD" | sort | uniq -d)
[[ -z $duplicated ]] || lab_fail "jumps to GATEWAYD chains installed twice:"$'\n'"$duplicated"
lab_ok "after restart: exactly one set of GATEWAYD rules, the killed daemon's are gone"

lab_upnp_expect_listed lan UDP "$UDP_PORT" "$LAB_LAN_IP:$UDP_PORT" "after the restart"
lab_upnp_expect_listed lan TCP "$TCP_PORT" "$LAB_LAN_IP:$TCP_PORT" "after the restart"
lab_upnp_expect_open lan udp "$UDP_PORT" "$UDP_PORT" "UDP $UDP_PORT after the restart"
lab_upnp_expect_open lan tcp "$TCP_PORT" "$TCP_PORT" "TCP $TCP_PORT after the restart"
lab_ok "both UPnP mappings are listed again and reach the LAN host"
left=$(timed_forward_left)
if ! [[ $left =~ ^[0-9]+$ ]] || ((left < 1 || left > FORWARD_SECONDS)); then
    lab_fail "the timed forward is not back with 1..${FORWARD_SECONDS}s left:"$'\n'"$(lab_ctl mappings)"$'\n'"$(cat "$LAB_DAEMON_LOG")"
fi
lab_upnp_expect_open lan tcp "$FORWARD_PORT" "$FORWARD_PORT" "the timed forward after the restart"
lab_ok "the timed forward is back with ${left}s of ${FORWARD_SECONDS}s left and reaches the LAN host"
lab_expect_traffic_flows "$ECHO_PORT" "LAN→WAN after the restart"
echo "PASS  SIGKILL fails closed, and the restart cleans up and restores mappings and forwards"
