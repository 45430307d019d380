#!/usr/bin/env bash
# A queue socket that overflows loses packets before any decision: gatewayd counts it (enobufs in
# `gatewayctl status`, beside the kernel's own kernel_user_drops), logs it once a minute at most,
# and carries on translating — no crash, no stall. The daemon is stopped (SIGSTOP) while a burst
# arrives, with the smallest socket buffer nfqueue.socket_buffer_bytes allows, so the overflow is
# certain; the lost packets are dropped, never passed untranslated (fail-closed).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly ECHO_PORT=7001 BURST=3000 DISCARD_PORT=9

small_buffer_config() {
    cat <<YAML
lan:
  interface: $LAB_GW_LAN_IF
wan:
  interface: $LAB_GW_WAN_IF
  address: auto
nfqueue:
  socket_buffer_bytes: 65536
upnp:
  enabled: false
YAML
}

echo_works() {
    local answer
    answer=$(lab_py lan udp-ask "$LAB_WAN_IP:$ECHO_PORT") || lab_fail "$1: no UDP echo came back: $answer"
    [[ $(awk '{ print $2 }' <<<"$answer") == "$LAB_GW_WAN_IP":* ]] || lab_fail "$1: the echo server saw '$answer'"
}

# burst_while_stopped: the daemon sleeps while BURST datagrams reach its queue.
burst_while_stopped() {
    kill -STOP "$LAB_DAEMON_PID"
    lab_lan "$LAB_PY" -c "import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range($BURST): s.sendto(b'x' * 64, ('$LAB_WAN_IP', $DISCARD_PORT))"
    kill -CONT "$LAB_DAEMON_PID"
}

counter() { lab_ctl --json status | lab_json "queues.0.$1"; }
enobufs_at_least() { (($(counter enobufs) >= $1)); }

lab_up --config <(small_buffer_config)
lab_heading "a queue overflow is counted and logged, and translation carries on"
lab_bg wan echo "$LAB_PY" "$LAB_NET_PY" udp-echo --port "$ECHO_PORT"
lab_wait_listen wan udp "$ECHO_PORT"
echo_works "before the burst"
(($(counter enobufs) == 0)) || lab_fail "ENOBUFS counted before any burst: $(counter enobufs)"

burst_while_stopped
lab_poll 5 enobufs_at_least 1 || lab_fail "no ENOBUFS counted after $BURST datagrams met a stopped daemon"
lab_wait_log "$LAB_DAEMON_LOG" "(ENOBUFS)" || lab_fail "the overflow was not logged"
drops=$(counter kernel_user_drops)
((drops > 0)) || lab_fail "the kernel counted no undeliverable packet (kernel_user_drops $drops)"
lab_ok "overflow counted: enobufs $(counter enobufs), the kernel dropped $drops packets it could not deliver"
echo_works "after the burst"
lab_ok "translation carries on after the overflow"

burst_while_stopped
lab_poll 5 enobufs_at_least 2 || lab_fail "a second overflow was not counted (enobufs $(counter enobufs))"
echo_works "after the second burst"
lines=$(grep -c "(ENOBUFS)" "$LAB_DAEMON_LOG" || true)
((lines == 1)) || lab_fail "two overflows within a minute logged $lines lines; expected 1 (rate-limited)"
kill -0 "$LAB_DAEMON_PID" || lab_fail "gatewayd is gone"
lab_ok "a second overflow is counted ($(counter enobufs)) but not logged again within the minute"
echo "PASS  queue overflows are counted, logged once a minute and survived"
