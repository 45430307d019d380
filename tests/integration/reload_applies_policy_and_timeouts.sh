#!/usr/bin/env bash
# ctest: sanitize
# A reload applies what it can in place (issue 16): SIGHUP with upnp.secure_mode false, narrower
# upnp.permissions and a longer nat.timeouts.udp changes what real clients get at once, no restart:
# before, upnpc on LAN host 1 mapping a port to LAN host 2 is refused 606 (secure mode) and
# GetOutboundPinholeTimeout (upnpc -G over IPv6) says 300 s; after, the same mapping is granted
# inside the new permitted range and a WAN probe reaches LAN host 2 through it, a port outside the
# range is refused 606, the mapping held from before stays (logged as denied by the new rules), and
# GetOutboundPinholeTimeout says 600 s. The log and gatewayctl reload name each key with both values.
# A key that needs a restart (upnp.http_port) is refused by name with both values, in gatewayctl's
# answer (exit 1) and in the daemon's log, and changes nothing.
# Daemon-only: skips under LAB_NAT=kernel (fails under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly HELD_PORT=43010 NEW_PORT=20001 OUTSIDE_PORT=43011

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "reload is gatewayd's; LAB_NAT=${LAB_NAT:-}"

lab_upnp_up --igd-version 2 --lan-hosts 2 --ipv6-lan
LAN2_IP=$(lab_lan_ip 2)
HOST1_IP6=$(lab_upnp_lan_ip6 1)
ROOT_URL6=$(lab_upnp_url6)
readonly LAN2_IP HOST1_IP6 ROOT_URL6
lab_heading "a reload applies secure_mode, permissions and timeouts in place; restart-only keys are refused by name"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"

# udp_timeout_says SECONDS: GetOutboundPinholeTimeout for UDP, asked over IPv6 by upnpc.
udp_timeout_says() {
    local out
    out=$(lab_in lan upnpc -6 -u "$ROOT_URL6" -G "" 0 "$HOST1_IP6" 46100 17 2>&1) || true
    grep -qE "Timeout = $1\$" <<<"$out" || lab_fail "GetOutboundPinholeTimeout UDP: expected $1 s, upnpc said:"$'\n'"$out"
}

# map_to_lan2 PORT: upnpc on LAN host 1 asks for TCP PORT to LAN host 2; prints upnpc's output.
map_to_lan2() { lab_upnpc lan -e reload-test -a "$LAN2_IP" "$1" "$1" TCP 3600 2>&1 || true; }

udp_timeout_says 300
out=$(map_to_lan2 "$NEW_PORT")
grep -qE "failed with code 606 " <<<"$out" || lab_fail "secure mode: a mapping to LAN host 2 was not refused 606:"$'\n'"$out"
lab_upnp_map lan tcp "$HELD_PORT" "$HELD_PORT" held-before-reload
lab_ok "before: a mapping to another host is refused 606; UDP outbound timeout 300 s; TCP $HELD_PORT mapped"

sed -e 's/^  secure_mode: true$/  secure_mode: false/' \
    -e "s|^  permissions: .*|  permissions: [\"allow 20000-29999 $LAB_LAN_NET 1024-65535\"]|" \
    "$LAB_TMP/gatewayd.yaml" >"$LAB_TMP/reloaded.yaml"
echo "nat: {timeouts: {udp: 600}}" >>"$LAB_TMP/reloaded.yaml"
cp "$LAB_TMP/reloaded.yaml" "$LAB_TMP/gatewayd.yaml"  # the file the daemon reads
kill -HUP "$LAB_DAEMON_PID"
lab_wait_log "$LAB_DAEMON_LOG" "SIGHUP: reloaded" || lab_fail "SIGHUP did not reload:"$'\n'"$(tail -5 "$LAB_DAEMON_LOG")"
summary=$(grep "SIGHUP: reloaded" "$LAB_DAEMON_LOG" | tail -1)
for change in "nat.timeouts.udp 300 -> 600" "upnp.secure_mode true -> false" "upnp.permissions ["; do
    grep -qF "$change" <<<"$summary" || lab_fail "the reload summary does not name '$change': $summary"
done
lab_wait_log "$LAB_DAEMON_LOG" "1 port mapping(s) held are denied by the new upnp.permissions" ||
    lab_fail "the mapping the new permissions deny was not logged"
lab_ok "SIGHUP: ${summary#*SIGHUP: }"

udp_timeout_says 600
lab_upnp_listen lan2 "$NEW_PORT"
out=$(map_to_lan2 "$NEW_PORT")
grep -q "failed with code" <<<"$out" && lab_fail "secure_mode false: mapping to LAN host 2 refused:"$'\n'"$out"
lab_upnp_expect_open lan2 tcp "$NEW_PORT" "$NEW_PORT" "the mapping to LAN host 2 granted after the reload"
out=$(lab_upnpc lan -e outside -a "$LAB_LAN_IP" "$OUTSIDE_PORT" "$OUTSIDE_PORT" TCP 3600 2>&1 || true)
grep -qE "failed with code 606 " <<<"$out" || lab_fail "new permissions: TCP $OUTSIDE_PORT was not refused 606:"$'\n'"$out"
lab_upnp_expect_listed lan TCP "$HELD_PORT" "$LAB_LAN_IP:$HELD_PORT" "the mapping held from before the reload"
lab_ok "after: LAN host 1 maps $NEW_PORT to LAN host 2 (a WAN probe reaches it); $OUTSIDE_PORT is refused 606; the held mapping stays; UDP timeout 600 s"

sed -e "s/^  http_port: .*/  http_port: 49160/" "$LAB_TMP/reloaded.yaml" >"$LAB_TMP/gatewayd.yaml"
rc=0
err=$(lab_ctl reload 2>&1 >/dev/null) || rc=$?
((rc == 1)) || lab_fail "an upnp.http_port change was not refused (exit $rc): $err"
line="upnp.http_port cannot change while running ($LAB_UPNP_HTTP_PORT -> 49160): restart gatewayd to apply it"
grep -qF "$line" <<<"$err" || lab_fail "gatewayctl reload does not name upnp.http_port with both values:"$'\n'"$err"
lab_wait_log "$LAB_DAEMON_LOG" "upnp.http_port cannot change while running ($LAB_UPNP_HTTP_PORT -> 49160)" ||
    lab_fail "the daemon did not log the refused key"
if grep -q "running values" "$LAB_DAEMON_LOG"; then lab_fail "a refusal still says 'running values'"; fi
udp_timeout_says 600
lab_ok "refused by key: $line"
echo "PASS  a reload applies secure_mode, permissions and timeouts in place; restart-only keys are refused by name"
