#!/usr/bin/env bash
# ctest: sanitize
# Live counters and flows delete (issue 16) with real traffic through gatewayd:
#   - a TCP exchange from the LAN host to the WAN host's echo server shows on its flow as packets
#     and bytes (both directions) with seconds left below the TCP timeout; a UDP flow from the
#     LAN host shows its packets, bytes and seconds left (nat.timeouts.udp: 300) too;
#   - a NAT-PMP mapping (natpmpc) and a static TCP forward count the packets and bytes of what
#     they let in (`mappings`, `forwards list`, and `metrics`, which promtool accepts);
#   - `flows delete` without a selector is a usage error (exit 2); `flows delete --host LAN-HOST`
#     says how many flows it ended, `flows --host` lists none after it, and a UDP reply from the
#     WAN host to the ended flow's external port no longer reaches the LAN host (its NAT mapping
#     went with it), while one sent before the delete did.
# Daemon-only: skips under LAB_NAT=kernel (fails under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly ECHO_PORT=7000 UDP_REMOTE_PORT=7001 LAN_PORT=40100 MAPPED_LAN_PORT=40200 WANTED_PORT=43020 FORWARD_PORT=2222

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "gatewayctl talks to gatewayd; LAB_NAT=${LAB_NAT:-}"
command -v natpmpc >/dev/null || lab_skip "missing tool: natpmpc (package natpmp-utils; tools/install-deps.sh)"

counters_config() {
    cat <<EOF
lan: {interface: $LAB_GW_LAN_IF, networks: [$LAB_LAN_NET]}
wan: {interface: $LAB_GW_WAN_IF, address: auto}
upnp:
  enabled: true
  http_port: $LAB_UPNP_HTTP_PORT
  lease_file: $LAB_TMP/upnp.leases
  permissions: ["allow 1024-65535 $LAB_LAN_NET 1024-65535"]
natpmp: {enabled: true}
firewall:
  forwards:
    - {name: lan-listener, protocol: tcp, external_port: $FORWARD_PORT, internal: "$LAB_LAN_IP:$LAN_PORT"}
EOF
}

# json_check PYTHON WHAT: runs the statements with `d` = the JSON document on stdin; they set `ok`.
json_check() {
    python3 -c 'import json, sys
d = json.load(sys.stdin)
ok = False
exec(sys.argv[1])
sys.exit(0 if ok else 1)' "$1" || lab_fail "$2"
}

# The LAN host's UDP flow to the WAN host's UDP_REMOTE_PORT: its external port.
udp_external_port() {
    lab_ctl --json flows --proto udp --remote "$LAB_WAN_IP:$UDP_REMOTE_PORT" |
        python3 -c 'import json, sys; f = json.load(sys.stdin)["flows"]; print(f[0]["external_port"] if f else "")'
}

# The config names files in LAB_TMP, which lab_up makes: the daemon starts after it.
lab_up --nat none
counters_config >"$LAB_TMP/counters.yaml"
lab_daemon_start --config "$LAB_TMP/counters.yaml"
lab_heading "flows, mappings and forwards count packets and bytes; flows delete ends flows"

# The LAN host listens on LAN_PORT (UDP and TCP) and says hello from it to the WAN host: a UDP flow.
lab_bg wan echo "$LAB_PY" "$LAB_NET_PY" line-echo --port "$ECHO_PORT"
lab_wait_listen wan tcp "$ECHO_PORT"
lab_bg lan listener "$LAB_PY" "$LAB_NET_PY" listen-log --port "$LAN_PORT" --log "$LAB_TMP/arrivals" \
    --hello "$LAB_WAN_IP:$UDP_REMOTE_PORT"
lab_wait_listen lan udp "$LAN_PORT"
lab_poll 3 test -n "$(udp_external_port)" || lab_fail "no UDP flow from the LAN host's hello: $(lab_ctl flows)"
external=$(udp_external_port)
lab_py wan udp-send --source-port "$UDP_REMOTE_PORT" "$LAB_GW_WAN_IP" "$external" before-delete
lab_poll 3 grep -q "before-delete" "$LAB_TMP/arrivals" ||
    lab_fail "control: the WAN host's reply to $LAB_GW_WAN_IP:$external did not reach the LAN host"
lab_ctl --json flows --proto udp --remote "$LAB_WAN_IP:$UDP_REMOTE_PORT" |
    json_check 'f = d["flows"][0]; ok = f["packets"] == 2 and f["bytes"] == (28 + 5) + (28 + 13) and 295 <= f["seconds_left"] <= 300' \
        "the UDP flow does not count its 2 packets (74 bytes) or its time left: $(lab_ctl --json flows --proto udp)"
lab_ok "UDP flow: 2 packets, 74 bytes, $(lab_ctl --json flows --proto udp | lab_json flows.0.seconds_left) s left"

out=$(lab_py lan line-talk --count 20 --size 200 "$LAB_WAN_IP" "$ECHO_PORT") || lab_fail "line-talk failed: $out"
lab_ctl --json flows --proto tcp --remote "$LAB_WAN_IP:$ECHO_PORT" |
    json_check 'f = d["flows"][0]; ok = f["packets"] >= 40 and f["bytes"] >= 2 * 20 * 200 and 0 < f["seconds_left"] <= 7440' \
        "the TCP flow does not count the exchange: $(lab_ctl --json flows --proto tcp)"
text=$(lab_ctl flows --proto tcp --remote "$LAB_WAN_IP:$ECHO_PORT")
grep -qE "^protocol +state +internal +external_port +remote +origin +packets +bytes +idle_seconds +seconds_left" <<<"$text" ||
    lab_fail "flows has no packets, bytes or seconds_left column:"$'\n'"$text"
lab_ok "TCP flow: $(tail -1 <<<"$text" | tr -s ' ')"

lab_bg lan mapped "$LAB_PY" "$LAB_NET_PY" listen-log --port "$MAPPED_LAN_PORT" --log "$LAB_TMP/arrivals.mapped"
lab_wait_listen lan udp "$MAPPED_LAN_PORT"
out=$(lab_in lan natpmpc -g "$LAB_GW_LAN_IP" -a "$WANTED_PORT" "$MAPPED_LAN_PORT" udp 120 2>&1) ||
    lab_fail "natpmpc -a $WANTED_PORT $MAPPED_LAN_PORT udp failed:"$'\n'"$out"
MAPPED_PORT=$(sed -nE 's/^Mapped public port ([0-9]+) protocol .*/\1/p' <<<"$out")
[[ -n $MAPPED_PORT ]] || lab_fail "natpmpc reported no public port:"$'\n'"$out"
lab_py wan udp-send "$LAB_GW_WAN_IP" "$MAPPED_PORT" via-mapping
lab_poll 3 grep -q "via-mapping" "$LAB_TMP/arrivals.mapped" ||
    lab_fail "the NAT-PMP mapping on $MAPPED_PORT did not let the WAN host's datagram in"
lab_ctl --json mappings |
    json_check 'm = [m for m in d["upnp"] if m["external_port"] == '"$MAPPED_PORT"']; ok = m and m[0]["packets"] == 1 and m[0]["bytes"] == 28 + 11' \
        "mappings does not count the datagram the NAT-PMP mapping let in: $(lab_ctl --json mappings)"
lab_ok "NAT-PMP mapping udp $MAPPED_PORT: 1 packet, 39 bytes"

lab_py wan tcp-send "$LAB_GW_WAN_IP" "$FORWARD_PORT" via-forward || lab_fail "TCP to the static forward failed"
lab_poll 3 grep -q "via-forward" "$LAB_TMP/arrivals" || lab_fail "the static forward did not reach the LAN host"
forward_counted() { lab_ctl --json forwards list | python3 -c 'import json, sys; sys.exit(json.load(sys.stdin)["forwards"][0]["packets"] < 3)'; }
lab_poll 3 forward_counted || lab_fail "forwards list does not count the forwarded connection: $(lab_ctl --json forwards list)"
lab_ctl --json forwards list | json_check 'f = d["forwards"][0]; ok = f["name"] == "lan-listener" and f["packets"] >= 3 and f["bytes"] > 3 * 40' \
    "forwards list: wrong counts: $(lab_ctl --json forwards list)"
lab_ok "static forward tcp $FORWARD_PORT: $(lab_ctl --json forwards list | lab_json forwards.0.packets) packets"

promtool=${PROMTOOL:-$(command -v promtool || echo /usr/local/libexec/gatewayd-tests/promtool)}
[[ -x $promtool ]] || lab_fail "promtool is missing (tools/install-deps.sh fetches it)"
metrics=$(lab_ctl metrics) || lab_fail "gatewayctl metrics failed: $metrics"
lint=$("$promtool" check metrics <<<"$metrics" 2>&1) || lab_fail "promtool check metrics refuses the metrics:"$'\n'"$lint"
grep -qE "^gatewayd_mapping_packets_total\{protocol=\"udp\",external_port=\"$MAPPED_PORT\",.*\} 1\$" <<<"$metrics" ||
    lab_fail "metrics: no packet count of the NAT-PMP mapping:"$'\n'"$(grep mapping_ <<<"$metrics")"
grep -qE "^gatewayd_forward_bytes_total\{forward=\"lan-listener\",protocol=\"tcp\",.*\} [1-9][0-9]*\$" <<<"$metrics" ||
    lab_fail "metrics: no byte count of the static forward:"$'\n'"$(grep forward_ <<<"$metrics")"
lab_ok "metrics: promtool accepts the mapping and forward series${lint:+ ($lint)}"

rc=0
err=$(lab_ctl flows delete 2>&1) || rc=$?
[[ $rc -eq 2 && $err == *"needs a selector"* ]] || lab_fail "flows delete without a selector: rc $rc (not 2), $err"
lab_ctl --json flows | json_check 'ok = d["count"] >= 3' "flows delete without a selector ended flows: $(lab_ctl flows)"
lab_ok "flows delete without a selector: exit 2 ($err)"

out=$(lab_ctl --json flows delete --host "$LAB_LAN_IP") || lab_fail "flows delete --host failed: $out"
json_check 'ok = d["ended"] >= 3' "flows delete --host $LAB_LAN_IP ended too few flows: $out" <<<"$out"
lab_ctl --json flows --host "$LAB_LAN_IP" | json_check 'ok = d["count"] == 0' \
    "flows of $LAB_LAN_IP are still listed after flows delete: $(lab_ctl flows --host "$LAB_LAN_IP")"
grep -q "gatewayctl flows delete --host $LAB_LAN_IP: [0-9]* flows ended" "$LAB_DAEMON_LOG" ||
    lab_fail "the daemon did not log the delete"
lab_py wan udp-send --source-port "$UDP_REMOTE_PORT" "$LAB_GW_WAN_IP" "$external" after-delete
sleep 1
! grep -q "after-delete" "$LAB_TMP/arrivals" ||
    lab_fail "the WAN host's datagram to the ended flow's port $external still reached the LAN host"
lab_ok "flows delete --host $LAB_LAN_IP: $(lab_json ended <<<"$out") flows ended; the ended flow's port lets nothing in"
echo "PASS  gatewayctl flow counters and flows delete"
