#!/usr/bin/env bash
# ctest: sanitize
# A graceful restart hands the flow table over: a long-lived TCP connection through the gateway
# (the WAN host pushes a line every 100 ms, the LAN host echoes it) keeps exchanging data across
# SIGTERM + start, on the same external port, and no RST crosses the WAN. Then the same across an
# upgrade-like restart (another gatewayd binary path, same config and state directory). Control:
# the same restart with the snapshot removed before the start loses the connection, so the test
# cannot pass on a gateway that merely picks connections up mid-stream.
# Daemon-only: skips under LAB_NAT=kernel (fails under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly PORT=7100 SECONDS_PER_RUN=10 MAX_GAP=6
TICK_PY=$LAB_DIR/tick_stream.py

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the flow handover is gatewayd's; LAB_NAT=${LAB_NAT:-}"

# start_stream NAME: the WAN server and the LAN client of one connection; returns once it runs.
start_stream() {
    lab_bg wan "server.$1" "$LAB_PY" "$TICK_PY" server --port "$PORT" --seconds "$SECONDS_PER_RUN" --result "$LAB_TMP/server.$1.json"
    STREAM_SERVER_PID=$LAB_BG_PID
    lab_wait_listen wan tcp "$PORT"
    lab_bg lan "client.$1" "$LAB_PY" "$TICK_PY" client --host "$LAB_WAN_IP" --port "$PORT" --result "$LAB_TMP/client.$1.json"
    STREAM_CLIENT_PID=$LAB_BG_PID
    sleep 1.5
}

# external_port: the port on the WAN address gatewayd shows for the established connection.
external_port() {
    lab_ctl --json flows --proto tcp --port "$PORT" |
        "$LAB_PY" -c 'import json, sys; f = [f for f in json.load(sys.stdin)["flows"] if f["remote"].endswith(":'"$PORT"'") and f["state"] == "established"]; print(f[0]["external_port"] if f else "none")'
}

# restart [--drop-snapshot]: SIGTERM, wait, start again (dropping the snapshot first if asked).
restart() {
    lab_daemon_stop
    [[ $LAB_DAEMON_RC == 0 ]] || lab_fail "gatewayd exited with $LAB_DAEMON_RC on SIGTERM"
    grep -q "flow snapshot: .* saved to" "$LAB_DAEMON_LOG" || lab_fail "no flow snapshot saved at SIGTERM:"$'\n'"$(cat "$LAB_DAEMON_LOG")"
    sleep 0.5 # down for a while: the server's segments meet a closed gateway
    if [[ ${1:-} == --drop-snapshot ]]; then rm -f "$LAB_TMP/flows.snapshot"; fi
    lab_daemon_start
}

# wait_stream NAME: wait for both ends (not in a subshell: it waits for this shell's children);
# sets STREAM_RESULT to the server's result.
wait_stream() {
    wait "$STREAM_SERVER_PID" || true
    lab_poll 5 _lab_pid_gone "$STREAM_CLIENT_PID" || kill "$STREAM_CLIENT_PID" 2>/dev/null || true
    [[ -s $LAB_TMP/server.$1.json ]] || lab_fail "the WAN end of $1 wrote no result: $(cat "$LAB_TMP/server.$1.log")"
    STREAM_RESULT=$(cat "$LAB_TMP/server.$1.json")
}

field() { "$LAB_PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$LAB_TMP/$1.json" "$2"; }

# expect_survived NAME WHAT PORT_BEFORE
expect_survived() {
    local name=$1 what=$2 before=$3 result error gap sent echoed after
    wait_stream "$name"
    result=$STREAM_RESULT
    error=$(field "server.$name" error) gap=$(field "server.$name" max_gap)
    sent=$(field "server.$name" sent) echoed=$(field "server.$name" echoed)
    [[ $error == None ]] || lab_fail "$what: the connection broke: $result; client: $(cat "$LAB_TMP/client.$name.json")"
    [[ $(field "client.$name" error) == None ]] || lab_fail "$what: the LAN end saw $(cat "$LAB_TMP/client.$name.json")"
    "$LAB_PY" -c "import sys; sys.exit(0 if $gap <= $MAX_GAP else 1)" ||
        lab_fail "$what: the exchange stalled for ${gap}s (at most ${MAX_GAP}s): $result"
    ((echoed >= sent - 5)) || lab_fail "$what: only $echoed of $sent lines came back: $result"
    after=$(field "server.$name" peer)
    [[ ${after##*:} == "$before" ]] || lab_fail "$what: the server saw the connection from $after, gatewayd had port $before"
    lab_ok "$what: $echoed of $sent lines echoed, longest wait ${gap}s, external port $before throughout"
}

lab_up --nat gatewayd
lab_heading "a graceful restart keeps an established TCP connection"
lab_sniff_start wan rst-watch "$PORT"

start_stream sigterm
before=$(external_port)
[[ $before =~ ^[0-9]+$ ]] || lab_fail "gatewayd shows no flow for the connection: $(lab_ctl flows)"
restart
grep -E "flow snapshot: restored [1-9][0-9]* of" "$LAB_DAEMON_LOG" >/dev/null ||
    lab_fail "the new gatewayd restored no flow:"$'\n'"$(cat "$LAB_DAEMON_LOG")"
[[ ! -e $LAB_TMP/flows.snapshot ]] || lab_fail "the snapshot was not deleted after it was restored"
[[ $(external_port) == "$before" ]] || lab_fail "after the restart the flow is on port $(external_port), not $before"
lab_ok "SIGTERM + start: $(grep -o 'flow snapshot: restored.*' "$LAB_DAEMON_LOG")"
expect_survived sigterm "SIGTERM + start" "$before"

lab_heading "an upgrade-like restart (another binary path, same state directory) does the same"
cp "$GATEWAYD" "$LAB_TMP/gatewayd-upgraded"
start_stream upgrade
before=$(external_port)
GATEWAYD=$LAB_TMP/gatewayd-upgraded
restart
expect_survived upgrade "upgrade-like restart" "$before"

resets=$(lab_sniffed rst-watch | grep -E ' [A-Z]*R[A-Z]*$' || true)
[[ -z $resets ]] || lab_fail "RSTs crossed the WAN:"$'\n'"$resets"
lab_ok "no RST reached the WAN host on port $PORT"

lab_heading "control: without the snapshot the same restart loses the connection"
start_stream control
restart --drop-snapshot
wait_stream control
result=$STREAM_RESULT
gap=$(field server.control max_gap)
sent=$(field server.control sent) echoed=$(field server.control echoed)
if [[ $(field server.control error) == None ]] && ((echoed >= sent - 5)) &&
    "$LAB_PY" -c "import sys; sys.exit(0 if $gap <= $MAX_GAP else 1)"; then
    lab_fail "control: the connection survived without the handover ($result), so the checks above prove nothing"
fi
lab_ok "without the handover the exchange stalls or breaks: $result"
echo "PASS  a graceful restart keeps an established TCP connection"
