#!/usr/bin/env bash
# ctest: sanitize
# nfqueue.worker_priority (issue 17): with 1-99 every queue worker runs SCHED_FIFO at that
# priority, so a woken worker preempts ordinary programs instead of queueing behind them; the
# rest of gatewayd keeps the normal scheduler. Translation works as before, and SIGTERM still
# stops the workers at once: they sleep in recvmmsg, and stop wakes them through the kernel
# (NfQueueSocket::wake), not by a timeout.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly ECHO_PORT=7001 PRIORITY=7

realtime_config() {
    cat <<YAML
lan:
  interface: $LAB_GW_LAN_IF
wan:
  interface: $LAB_GW_WAN_IF
  address: auto
nfqueue:
  workers: 2
  worker_priority: $PRIORITY
upnp:
  enabled: false
YAML
}

# threads_with POLICY PRIORITY: how many of gatewayd's threads run under that class and priority
# (ps: FF = SCHED_FIFO, TS = the normal scheduler, whose rtprio is "-").
threads_with() {
    ps -L -o cls=,rtprio= -p "$LAB_DAEMON_PID" | awk -v c="$1" -v p="$2" '$1 == c && $2 == p' | wc -l
}

lab_up --config <(realtime_config)
lab_heading "nfqueue.worker_priority runs the queue workers SCHED_FIFO"
fifo=$(threads_with FF "$PRIORITY")
((fifo == 2)) || lab_fail "expected the 2 queue workers at SCHED_FIFO $PRIORITY, found $fifo: $(ps -L -o tid=,cls=,rtprio= -p "$LAB_DAEMON_PID" | tr '\n' ';')"
normal=$(threads_with TS -)
((normal >= 1)) || lab_fail "no thread of gatewayd kept the normal scheduler (the main loop should)"
lab_ok "2 workers at SCHED_FIFO $PRIORITY, $normal other threads under the normal scheduler"

lab_bg wan echo "$LAB_PY" "$LAB_NET_PY" udp-echo --port "$ECHO_PORT"
lab_wait_listen wan udp "$ECHO_PORT"
answer=$(lab_py lan udp-ask "$LAB_WAN_IP:$ECHO_PORT") || lab_fail "no UDP echo came back: $answer"
[[ $(awk '{ print $2 }' <<<"$answer") == "$LAB_GW_WAN_IP":* ]] || lab_fail "the echo server saw '$answer'"
lab_ok "UDP translated out and back: $answer"

started=$(date +%s%N)
kill -TERM "$LAB_DAEMON_PID"
lab_poll 5 _lab_pid_gone "$LAB_DAEMON_PID" || lab_fail "gatewayd did not stop within 5 s of SIGTERM"
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
_lab_reap_daemon
((LAB_DAEMON_RC == 0)) || lab_fail "gatewayd exited $LAB_DAEMON_RC on SIGTERM"
lab_ok "SIGTERM stopped the sleeping workers and gatewayd in ${elapsed_ms} ms, exit 0"
echo "PASS  queue workers run at the configured real-time priority and stop promptly"
