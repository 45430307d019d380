#!/usr/bin/env bash
# ctest: sanitize
# gatewayctl against the running daemon: `status`, `flows` and `mappings` print tables by default
# and pass the daemon's JSON through with --json. With one TCP connection from the LAN host held
# open and one UPnP mapping granted, status counts them, flows shows the connection as
# "established" with its endpoints (and the --proto/--host/--port filters select it or not), and
# mappings lists the UPnP mapping with its owner and lease; `mappings delete` removes it through the
# IGD (gone from GetGenericPortMappingEntry and from the lease file). Errors: an unknown command and a
# socket nobody listens on each give one line on stderr and a non-zero exit. `metrics` renders the
# same status for Prometheus, which promtool accepts, and gatewayctl's options go anywhere on the
# line (`status --json` as `--json status`).
# Daemon-only: skips under LAB_NAT=kernel (fails under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly ECHO_PORT=7000 MAPPED_PORT=43010

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "gatewayctl talks to gatewayd; LAB_NAT=${LAB_NAT:-}"

# json_check PYTHON-EXPRESSION WHAT: evaluates the expression with `d` = the JSON document on stdin.
json_check() {
    python3 -c 'import json, sys
d = json.load(sys.stdin)
sys.exit(0 if eval(sys.argv[1]) else 1)' "$1" || lab_fail "$2"
}

lab_upnp_up
lab_heading "gatewayctl status, flows and mappings"
lab_bg wan echo "$LAB_PY" "$LAB_NET_PY" line-echo --port "$ECHO_PORT"
lab_wait_listen wan tcp "$ECHO_PORT"
# Held open in the background until $LAB_TMP/go appears.
lab_bg lan holder python3 -c 'import os, socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
f = s.makefile("rb")
s.sendall(b"hello\n"); print(f.readline().decode().strip(), flush=True)
while not os.path.exists(sys.argv[3]): time.sleep(0.05)' "$LAB_WAN_IP" "$ECHO_PORT" "$LAB_TMP/go"
lab_wait_log "$LAB_TMP/holder.log" hello || lab_fail "the LAN host's TCP connection to the WAN host got no echo"
lab_upnp_map lan udp "$MAPPED_PORT" "$MAPPED_PORT" "ctl-test"

text=$(lab_ctl status --all) || lab_fail "gatewayctl status --all failed: $text"
grep -q "^wan_address: $LAB_GW_WAN_IP\$" <<<"$text" || lab_fail "status --all has no wan_address line:"$'\n'"$text"
grep -q "^upnp_mappings: 1\$" <<<"$text" || lab_fail "status --all does not count the UPnP mapping:"$'\n'"$text"
grep -q "^counters.packets_out: " <<<"$text" || lab_fail "status --all has no counters:"$'\n'"$text"
grep -q ": 0\$" <<<"$text" || lab_fail "status --all leaves out the zero counters:"$'\n'"$text"
short=$(lab_ctl status) || lab_fail "gatewayctl status failed: $short"
grep -qE "^gatewayd [0-9.]+, pid [0-9]+, up [0-9]+s, config $LAB_TMP/gatewayd.yaml\$" <<<"$short" ||
    lab_fail "status does not start with version, pid, uptime and config:"$'\n'"$short"
grep -qE "^WAN +$LAB_GW_WAN_IF $LAB_GW_WAN_IP" <<<"$short" || lab_fail "status has no WAN line:"$'\n'"$short"
grep -qE "^holding .*1 port mappings" <<<"$short" || lab_fail "status does not count the UPnP mapping:"$'\n'"$short"
grep -qE "(^| )[a-z_.]+ 0(,|\$)" <<<"$short" && lab_fail "status shows zero counters without --all:"$'\n'"$short"
(($(wc -l <<<"$short") < 20)) || lab_fail "status is not condensed ($(wc -l <<<"$short") lines):"$'\n'"$short"
lab_ok "status: $(wc -l <<<"$short") lines, $(head -1 <<<"$short")"
lab_ctl --json status | json_check 'd["ok"] and d["wan_address"] == "'"$LAB_GW_WAN_IP"'" and d["flows"] >= 1 and d["upnp_mappings"] == 1 and d["counters"]["packets_out"] > 0 and isinstance(d["warnings"], list) and d["uptime_seconds"] >= 0' \
    "gatewayctl --json status: fields missing or wrong: $(lab_ctl --json status)"
lab_ok "status: $(grep -E '^(wan_address|flows|upnp_mappings):' <<<"$text" | tr '\n' ' ')"
lab_ctl status --json | json_check 'd["ok"] and d["upnp_mappings"] == 1' \
    "gatewayctl status --json (the option after the command) is not the JSON status: $(lab_ctl status --json 2>&1)"
lab_ok "status --json: options go after the command too"

promtool=${PROMTOOL:-$(command -v promtool || echo /usr/local/libexec/gatewayd-tests/promtool)}
[[ -x $promtool ]] || lab_skip "promtool is missing (tools/install-deps.sh fetches it)"
metrics=$(lab_ctl metrics) || lab_fail "gatewayctl metrics failed: $metrics"
lint=$("$promtool" check metrics <<<"$metrics" 2>&1) || lab_fail "promtool check metrics refuses the metrics:"$'\n'"$lint"$'\n'"$metrics"
grep -qx 'gatewayd_upnp_mappings 1' <<<"$metrics" || lab_fail "metrics: no 'gatewayd_upnp_mappings 1':"$'\n'"$metrics"
grep -qE '^gatewayd_packets_total\{direction="out"\} [1-9][0-9]*$' <<<"$metrics" ||
    lab_fail "metrics: no outbound packet counter above 0:"$'\n'"$metrics"
grep -qE "^gatewayd_info\{.*wan_address=\"$LAB_GW_WAN_IP\"" <<<"$metrics" || lab_fail "metrics: gatewayd_info lacks the WAN address"
lab_ok "metrics: promtool accepts $(grep -c '^gatewayd_' <<<"$metrics") samples${lint:+ ($lint)}"

text=$(lab_ctl flows --proto tcp --port "$ECHO_PORT") || lab_fail "gatewayctl flows failed: $text"
grep -qE "^tcp +established +$LAB_LAN_IP:[0-9]+ +[0-9]+ +$LAB_WAN_IP:$ECHO_PORT +lan " <<<"$text" ||
    lab_fail "flows does not show the established connection:"$'\n'"$text"
lab_ctl --json flows --host "$LAB_WAN_IP" | json_check 'any(f["protocol"] == "tcp" and f["state"] == "established" and f["remote"] == "'"$LAB_WAN_IP:$ECHO_PORT"'" and f["internal"].startswith("'"$LAB_LAN_IP"':") and f["origin"] == "lan" and f["idle_seconds"] >= 0 for f in d["flows"])' \
    "gatewayctl --json flows --host: the connection is missing: $(lab_ctl --json flows)"
lab_ctl --json flows --proto udp --port "$ECHO_PORT" | json_check 'd["count"] == 0' "flows --proto udp matched the TCP connection"
lab_ok "flows: $(grep -E "^tcp" <<<"$text" | head -1)"

text=$(lab_ctl mappings) || lab_fail "gatewayctl mappings failed: $text"
grep -qE "^udp +$MAPPED_PORT +$LAB_LAN_IP:$MAPPED_PORT +\* +$LAB_LAN_IP +ctl-test +true +[0-9]+" <<<"$text" ||
    lab_fail "mappings does not list the UPnP mapping:"$'\n'"$text"
lab_ctl --json mappings | json_check 'd["upnp"][0]["owner"] == "'"$LAB_LAN_IP"'" and 3500 < d["upnp"][0]["lease_seconds"] <= 3600 and d["forwards"] == []' \
    "gatewayctl --json mappings: wrong fields: $(lab_ctl --json mappings)"
lab_ok "mappings: the UPnP mapping, its owner and its lease"

grep -q "$MAPPED_PORT" "$LAB_UPNP_LEASE_FILE" || lab_fail "control: the lease file does not hold the mapping"
out=$(lab_ctl mappings delete udp "$MAPPED_PORT") || lab_fail "gatewayctl mappings delete failed: $out"
lab_upnp_expect_unlisted lan UDP "$MAPPED_PORT" "after gatewayctl mappings delete"
# The lease file is a journal: its last word on the port must be the removal.
last=$(grep -E "^(del )?udp $MAPPED_PORT( |$)" "$LAB_UPNP_LEASE_FILE" | tail -n 1 || true)
[[ $last == "del udp $MAPPED_PORT" ]] ||
    lab_fail "the lease file still holds the deleted mapping (last line about it: '$last'):"$'\n'"$(cat "$LAB_UPNP_LEASE_FILE")"
err=$(lab_ctl mappings delete udp "$MAPPED_PORT" 2>&1) && lab_fail "deleting it twice succeeded"
lab_ok "mappings delete: $out; gone from UPnP and the lease file (again: $err)"

# Exit codes as gatewayctl(8) documents them: 1 refused, 2 usage, 3 unreachable.
rc=0
err=$(lab_ctl frobnicate 2>&1) || rc=$?
[[ $rc -eq 2 && $(wc -l <<<"$err") -eq 1 && $err == "gatewayctl: unknown command 'frobnicate'"* ]] ||
    lab_fail "unknown command: rc $rc, $err"
rc=0
err=$(lab_ctl status extra 2>&1) || rc=$?
[[ $rc -eq 2 ]] || lab_fail "status with an extra word: rc $rc (not 2), $err"
rc=0
err=$(lab_ctl flows --proto sctp 2>&1) || rc=$?
[[ $rc -eq 2 && $err == *"usage: flows"* ]] || lab_fail "flows --proto sctp: rc $rc (not 2), $err"
rc=0
refused=$(lab_ctl mappings delete udp "$MAPPED_PORT" 2>&1) || rc=$?
[[ $rc -eq 1 ]] || lab_fail "deleting a mapping that is not there: rc $rc (not 1), $refused"
rc=0
err=$("$GATEWAYCTL" --socket "$LAB_TMP/nobody.sock" status 2>&1) || rc=$?
[[ $rc -eq 3 && $err == "gatewayctl: gatewayd is not running"* ]] || lab_fail "no daemon: rc $rc (not 3), $err"
lab_ok "errors: one line each, exit 2 for usage, 1 refused, 3 unreachable ($err)"
answer=$(python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"x" * 5000 + b"\n")
print(s.makefile().readline().strip())' "$LAB_TMP/control.sock")
[[ $answer == '{"ok":false,"error":"request longer than 4096 bytes"}' ]] || lab_fail "an oversized request got: $answer"
lab_ctl status >/dev/null || lab_fail "the daemon does not answer after an oversized request"
lab_ok "an oversized request is refused: $answer"
[[ $(stat -c %a "$LAB_TMP/control.sock") == 600 ]] || lab_fail "the control socket's mode is $(stat -c %a "$LAB_TMP/control.sock")"
lab_ok "the control socket is mode 0600"
touch "$LAB_TMP/go"
echo "PASS  gatewayctl status, flows and mappings"
