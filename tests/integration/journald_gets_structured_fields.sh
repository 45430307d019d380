#!/usr/bin/env bash
# ctest: sanitize
# Under systemd, gatewayd's stderr is the journal's stream (JOURNAL_STREAM names it), and each
# log line becomes a journal entry of its own: PRIORITY= from the line's level, MESSAGE= without
# the redundant "gatewayd:" prefix, and a firewall decision's parts as fields (RULE=, REASON=,
# DIRECTION=, SRC=, DST=), so `journalctl -u gatewayd RULE=no-smtp-out` finds them.
# No journald runs here: in a private mount namespace, a stand-in bound to journald's socket
# (/run/systemd/journal/socket) records what gatewayd sends by libsystemd's native protocol.
# Also: with JOURNAL_STREAM naming another stream (a shell redirected stderr), lines stay text;
# and a WAN packet for the gateway itself is logged as what it was judged as, input; and
# `gatewayctl reload` notifies the service manager (a stand-in NOTIFY_SOCKET) as SIGHUP does.
set -euo pipefail

# Everything below runs in a mount namespace of its own, where a tmpfs over /run/systemd
# holds the stand-in's socket; the machine's /run is untouched.
if [[ ${1:-} != --in-private-mounts ]]; then
    exec unshare --mount --propagation private bash "${BASH_SOURCE[0]}" --in-private-mounts
fi
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the log is gatewayd's; LAB_NAT=${LAB_NAT:-}"

readonly SMTP_PORT=25 SOURCE_PORT=47025
journal_dir=/run/systemd
[[ -d $journal_dir ]] || journal_dir=/run
mount -t tmpfs gatewayd-test-journal "$journal_dir"
mkdir -p /run/systemd/journal

lab_up --nat none --config <(
    cat <<EOF
lan: {interface: $LAB_GW_LAN_IF, networks: [$LAB_LAN_NET]}
wan: {interface: $LAB_GW_WAN_IF, address: auto}
firewall:
  policy: {inbound: drop, outbound: accept, input: drop}
  rules:
    - {name: no-smtp-out, direction: outbound, protocol: tcp, destination_ports: [$SMTP_PORT], action: drop}
EOF
)
lab_heading "log lines reach the journal as entries with fields"

entries=$LAB_TMP/journal.entries
# The stand-in journald: each datagram (KEY=value lines; KEY\n + 64-bit length + value for
# values with a newline) becomes one JSON object per line in $entries.
lab_bg_root() { "$@" </dev/null >"$LAB_TMP/fake-journald.log" 2>&1 & }
lab_bg_root "$LAB_PY" -c '
import json, socket, struct, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "a", buffering=1) as log:
    while True:
        data = s.recv(1 << 20)
        entry, i = {}, 0
        while i < len(data):
            nl = data.index(b"\n", i)
            line = data[i:nl]
            if b"=" in line:
                key, value = line.split(b"=", 1)
                i = nl + 1
            else:
                key = line
                (size,) = struct.unpack("<Q", data[nl + 1:nl + 9])
                value = data[nl + 9:nl + 9 + size]
                i = nl + 9 + size + 1
            entry[key.decode()] = value.decode(errors="replace")
        log.write(json.dumps(entry) + "\n")
' /run/systemd/journal/socket "$entries"
lab_poll 5 test -S /run/systemd/journal/socket || lab_fail "the stand-in journald did not bind its socket"

# The daemon's stderr is a file whose device:inode JOURNAL_STREAM names, as systemd does.
stderr_file=$LAB_TMP/gatewayd-journal.stderr
: >"$stderr_file"
stream=$(stat -c '%d:%i' "$stderr_file")
# And a stand-in for systemd's notify socket: what gatewayd tells the service manager.
notices=$LAB_TMP/notify.log
lab_bg_root "$LAB_PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        log.write(s.recv(65536).decode(errors="replace").replace("\n", " ") + "\n")
' "$LAB_TMP/notify.sock" "$notices"
lab_poll 5 test -S "$LAB_TMP/notify.sock" || lab_fail "the stand-in notify socket is not there"
ip netns exec "$LAB_NS_GW" env JOURNAL_STREAM="$stream" NOTIFY_SOCKET="$LAB_TMP/notify.sock" "$GATEWAYD" --config "$LAB_TMP/gatewayd.yaml" \
    --control-socket "$LAB_TMP/control.sock" </dev/null >>"$stderr_file" 2>&1 &
daemon=$!

entry_with() { grep -sF -- "$1" "$entries"; }
lab_poll 20 entry_with '"MESSAGE": "ready' >/dev/null ||
    lab_fail "no 'ready' entry reached the journal; entries: $(cat "$entries" 2>/dev/null); stderr: $(cat "$stderr_file")"
ready=$(entry_with '"MESSAGE": "ready' | head -1)
[[ $ready == *'"PRIORITY": "6"'* && $ready == *'"SYSLOG_IDENTIFIER": "gatewayd"'* ]] ||
    lab_fail "the ready entry lacks PRIORITY=6 or SYSLOG_IDENTIFIER=gatewayd: $ready"
[[ $ready != *CODE_FILE* ]] || lab_fail "the entry names log.cpp as its source, which says nothing: $ready"
lab_ok "ready reached the journal as an entry: $ready"

lab_bg wan smtp "$LAB_PY" "$LAB_NET_PY" listen-log --port "$SMTP_PORT" --log "$LAB_TMP/wan-arrivals"
lab_wait_listen wan tcp "$SMTP_PORT"
lab_py lan tcp-send --timeout 1 --source-port "$SOURCE_PORT" "$LAB_WAN_IP" "$SMTP_PORT" smtp 2>/dev/null &&
    lab_fail "TCP to port $SMTP_PORT connected despite rule no-smtp-out"
lab_poll 5 entry_with '"RULE": "no-smtp-out"' >/dev/null ||
    lab_fail "no entry with RULE=no-smtp-out; entries: $(cat "$entries")"
decision=$(entry_with '"RULE": "no-smtp-out"' | head -1)
for field in '"ACTION": "drop"' '"REASON": "denied_by_rule"' '"DIRECTION": "outbound"' '"PROTO": "tcp"' \
    "\"SRC\": \"$LAB_LAN_IP:$SOURCE_PORT\"" "\"DST\": \"$LAB_WAN_IP:$SMTP_PORT\"" '"PRIORITY": "6"'; do
    [[ $decision == *"$field"* ]] || lab_fail "the decision's entry lacks $field: $decision"
done
[[ $decision == *'"MESSAGE": "drop rule=no-smtp-out '* ]] ||
    lab_fail "the decision's MESSAGE is not the line without the gatewayd prefix: $decision"
lab_ok "the drop is an entry with its fields: $decision"

# A WAN packet for the gateway itself is judged as input (the input rules, then
# policy.input), and its log says so, although it came through the inbound hook.
lab_py wan udp-send --source-port 47009 "$LAB_GW_WAN_IP" 9 to-the-gateway
lab_poll 5 entry_with "\"SRC\": \"$LAB_WAN_IP:47009\"" >/dev/null || lab_fail "no entry about the WAN host's datagram to the gateway"
input=$(entry_with "\"SRC\": \"$LAB_WAN_IP:47009\"" | head -1)
[[ $input == *'"DIRECTION": "input"'* && $input == *'"REASON": "denied_by_policy"'* ]] ||
    lab_fail "a WAN datagram to the gateway is not logged as input refused by policy: $input"
lab_ok "a WAN datagram to the gateway is logged as input: $(sed -n 's/.*"MESSAGE": "\([^"]*\)".*/\1/p' <<<"$input")"

# `gatewayctl reload` notifies the service manager as SIGHUP does: RELOADING=1, then READY=1.
lab_poll 5 grep -q 'READY=1' "$notices" || lab_fail "no READY=1 at start: $(cat "$notices")"
before=$(wc -l <"$notices")
lab_ctl reload >/dev/null || lab_fail "gatewayctl reload failed"
lab_poll 5 bash -c "tail -n +$((before + 1)) '$notices' | grep -q READY=1" || lab_fail "no READY=1 after gatewayctl reload: $(cat "$notices")"
after=$(tail -n +$((before + 1)) "$notices")
# The main loop's periodic STATUS= updates may come between; of the two states, RELOADING=1 comes first.
grep -q 'RELOADING=1' <<<"$(grep -m1 -E 'RELOADING=1|READY=1' <<<"$after")" || lab_fail "gatewayctl reload did not send RELOADING=1 first: $after"
lab_ok "gatewayctl reload: $(tr '\n' '|' <<<"$after")"

grep -q 'rule=no-smtp-out' "$stderr_file" && lab_fail "the decision went to stderr as well: $(cat "$stderr_file")"
lab_ok "nothing went twice: stderr has no copy of the journal's lines"

kill -TERM "$daemon"
wait "$daemon" || true

# A shell that redirected the service's stderr keeps JOURNAL_STREAM, which then names another
# stream: lines stay text, with the prefix journald reads the level from.
other_file=$LAB_TMP/gatewayd-redirected.stderr
ip netns exec "$LAB_NS_GW" env JOURNAL_STREAM="1:2" "$GATEWAYD" --config "$LAB_TMP/gatewayd.yaml" \
    --control-socket "$LAB_TMP/control.sock" </dev/null >"$other_file" 2>&1 &
daemon=$!
lab_poll 20 grep -q 'gatewayd: ready' "$other_file" || lab_fail "redirected: no text 'ready' line: $(cat "$other_file")"
grep -q '^<6>gatewayd: ready' "$other_file" || lab_fail "redirected: the ready line lacks its <6> prefix: $(grep ready "$other_file")"
kill -TERM "$daemon"
wait "$daemon" || true
lab_ok "with stderr elsewhere, lines are text: $(grep -m1 ready "$other_file")"
echo "PASS  log lines reach the journal as entries with fields"
