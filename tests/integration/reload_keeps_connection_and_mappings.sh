#!/usr/bin/env bash
# ctest: sanitize
# Reload without loss: with a TCP connection from the LAN host held open and a UPnP mapping
# granted, `gatewayctl reload` applies a config with a new static forward and a new rule, then
# SIGHUP applies it again. The connection exchanges data after each reload (same socket: it
# survived), the mapping is still listed and still reaches the LAN host, and the new forward works.
# Daemon-only: skips under LAB_NAT=kernel (fails under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly ECHO_PORT=7000 MAPPED_PORT=43020 FORWARD_PORT=3389

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "reload is gatewayd's; LAB_NAT=${LAB_NAT:-}"

# talk_after N: the holder sends line N on its one connection and waits for the echo.
talk_after() {
    touch "$LAB_TMP/go.$1"
    lab_wait_log "$LAB_TMP/holder.log" "line-$1" ||
        lab_fail "reload $1: the held TCP connection got no echo (it did not survive):"$'\n'"$(cat "$LAB_TMP/holder.log")"
}

lab_upnp_up
lab_heading "reload keeps established connections and UPnP mappings"
lab_bg wan echo "$LAB_PY" "$LAB_NET_PY" line-echo --port "$ECHO_PORT"
lab_wait_listen wan tcp "$ECHO_PORT"
# One connection, one line per go.N file; a broken connection is reported, not retried.
lab_bg lan holder python3 -c 'import os, socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
f = s.makefile("rb")
for n in range(3):
    while n and not os.path.exists(sys.argv[3] + "." + str(n)): time.sleep(0.05)
    s.sendall(b"line-%d\n" % n)
    answer = f.readline().decode().strip()
    print(answer if answer.endswith("line-%d" % n) else "broken: %r" % answer, flush=True)' "$LAB_WAN_IP" "$ECHO_PORT" "$LAB_TMP/go"
lab_wait_log "$LAB_TMP/holder.log" line-0 || lab_fail "the LAN host's connection to the WAN host got no echo"
lab_upnp_listen lan "$MAPPED_PORT"
lab_upnp_map lan tcp "$MAPPED_PORT" "$MAPPED_PORT" "kept-across-reload"
lab_upnp_expect_open lan tcp "$MAPPED_PORT" "$MAPPED_PORT" "before the reload"
lab_ok "a TCP connection is open (line-0 echoed) and TCP $MAPPED_PORT is mapped by UPnP"

# The same file, plus a forward and a rule.
{
    cat "$LAB_TMP/upnp-gatewayd.yaml"
    cat <<EOF
firewall:
  rules:
    - {name: no-telnet-out, direction: outbound, protocol: tcp, destination_ports: [23], action: reject}
  forwards:
    - {name: remote-desktop, protocol: tcp, external_port: $FORWARD_PORT, internal: "$LAB_LAN_IP:$FORWARD_PORT"}
EOF
} >"$LAB_TMP/gatewayd.yaml"
out=$(lab_ctl reload 2>&1) || lab_fail "gatewayctl reload was refused: $out"
[[ $out == reloaded*"1 rules, 1 forwards"* ]] || lab_fail "gatewayctl reload said: $out"
lab_ok "gatewayctl reload: $out"
talk_after 1
lab_ok "the held connection still exchanges data after the reload"
lab_upnp_listen lan "$FORWARD_PORT"
lab_upnp_expect_open lan tcp "$FORWARD_PORT" "$FORWARD_PORT" "the forward added by the reload"
lab_upnp_expect_open lan tcp "$MAPPED_PORT" "$MAPPED_PORT" "the UPnP mapping after the reload"
lab_upnp_expect_listed lan TCP "$MAPPED_PORT" "$LAB_LAN_IP:$MAPPED_PORT" "after the reload"
lab_ctl --json mappings | python3 -c 'import json, sys
d = json.load(sys.stdin)
sys.exit(0 if [m["external_port"] for m in d["upnp"]] == ['"$MAPPED_PORT"'] and d["forwards"][0]["name"] == "remote-desktop" else 1)' ||
    lab_fail "mappings after the reload: $(lab_ctl --json mappings)"
lab_ok "the new forward works; the UPnP mapping is still listed and still reaches the LAN host"

kill -HUP "$LAB_DAEMON_PID"
lab_wait_log "$LAB_DAEMON_LOG" "SIGHUP: reloaded" || lab_fail "SIGHUP did not reload"
talk_after 2
lab_upnp_expect_open lan tcp "$MAPPED_PORT" "$MAPPED_PORT" "the UPnP mapping after SIGHUP"
lab_ok "SIGHUP reloads too; the connection and the mapping survive it"
if grep -q broken "$LAB_TMP/holder.log"; then lab_fail "the held connection broke: $(cat "$LAB_TMP/holder.log")"; fi
echo "PASS  reload keeps established connections and UPnP mappings"
