#!/usr/bin/env bash
# The daemon under test in the lab: start gatewayd in the gateway namespace and wait until it says
# it is ready, stop it as systemd would (SIGTERM) or kill it as a crash would (SIGKILL).
# Sourced by lab.sh (source that, not this); needs lab.sh's state.

# lab_daemon_start [--config FILE]: start gatewayd in the gateway namespace and wait for
# "gatewayd: ready". With --config, FILE becomes the lab's gatewayd config (copied into $LAB_TMP,
# so `<(my_config)` works) for this start and the next ones; without it, the last one is used.
# Each start logs to its own file ($LAB_DAEMON_LOG) so that readiness is read from this start only.
# shellcheck disable=SC2120 # its arguments are optional
# lab_daemon_sanitized: is $GATEWAYD built with AddressSanitizer? Its quarantine keeps freed
# memory resident, so a bound on the daemon's memory means nothing there.
lab_daemon_sanitized() { [[ $(ldd "$GATEWAYD" 2>/dev/null) == *libasan* ]]; }

lab_daemon_start() {
    case ${1:-} in
    '') ;;
    --config) _lab_use_gatewayd_config "${2:?lab_daemon_start: --config needs a file}" ;;
    *) _lab_die "lab_daemon_start: unknown argument '$1'" ;;
    esac
    _lab_require_gatewayd
    [[ -z $LAB_DAEMON_PID ]] || _lab_die "gatewayd is already running (pid $LAB_DAEMON_PID)"
    LAB_DAEMON_STARTS=$((LAB_DAEMON_STARTS + 1))
    LAB_DAEMON_LOG=$LAB_TMP/gatewayd.$LAB_DAEMON_STARTS.log
    LAB_DAEMON_RC=
    ip netns exec "$LAB_NS_GW" "$GATEWAYD" --config "$LAB_TMP/gatewayd.yaml" --control-socket "$LAB_TMP/control.sock" \
        </dev/null >"$LAB_DAEMON_LOG" 2>&1 &
    LAB_DAEMON_PID=$!
    lab_poll "$LAB_READY_TIMEOUT" _lab_daemon_ready_or_dead || true
    if grep -sq 'gatewayd: ready' "$LAB_DAEMON_LOG"; then return 0; fi

    local why="did not report ready within ${LAB_READY_TIMEOUT}s"
    if _lab_pid_gone "$LAB_DAEMON_PID"; then
        local rc=0
        wait "$LAB_DAEMON_PID" || rc=$?
        why="exited with status $rc before reporting ready"
    fi
    lab_stop_pid "$LAB_DAEMON_PID"
    LAB_DAEMON_PID=
    _lab_log "gatewayd $why; its log:"
    sed 's/^/    /' "$LAB_DAEMON_LOG" >&2
    _lab_die "gatewayd failed to start"
}

_lab_daemon_ready_or_dead() {
    grep -sq 'gatewayd: ready' "$LAB_DAEMON_LOG" || _lab_pid_gone "$LAB_DAEMON_PID"
}

# lab_daemon_stop: SIGTERM, wait up to LAB_STOP_TIMEOUT, SIGKILL if it hangs (and say so).
# Sets LAB_DAEMON_RC to its exit status (127 when called from a shell that did not start it).
lab_daemon_stop() {
    [[ -n $LAB_DAEMON_PID ]] || return 0
    kill -TERM "$LAB_DAEMON_PID" 2>/dev/null || true
    if ! lab_poll "$LAB_STOP_TIMEOUT" _lab_pid_gone "$LAB_DAEMON_PID"; then
        _lab_log "gatewayd ignored SIGTERM for ${LAB_STOP_TIMEOUT}s; sending SIGKILL"
        kill -KILL "$LAB_DAEMON_PID" 2>/dev/null || true
        lab_poll 2 _lab_pid_gone "$LAB_DAEMON_PID" || true
    fi
    _lab_reap_daemon
}

# lab_daemon_kill9: what a crash or the OOM killer does; the daemon gets no chance to clean up.
lab_daemon_kill9() {
    [[ -n $LAB_DAEMON_PID ]] || _lab_die "lab_daemon_kill9: gatewayd is not running"
    # Disowned, bash does not print "Killed" for it; its status is known anyway.
    disown "$LAB_DAEMON_PID" 2>/dev/null || true
    kill -KILL "$LAB_DAEMON_PID" 2>/dev/null || true
    lab_poll 2 _lab_pid_gone "$LAB_DAEMON_PID" || true
    LAB_DAEMON_RC=137
    LAB_DAEMON_PID=''
}

# shellcheck disable=SC2034 # LAB_DAEMON_RC is read by the scripts that stop the daemon
_lab_reap_daemon() {
    LAB_DAEMON_RC=0
    wait "$LAB_DAEMON_PID" 2>/dev/null || LAB_DAEMON_RC=$?
    LAB_DAEMON_PID=''
}

# lab_ctl ARGS...: gatewayctl against the lab's daemon (its control socket is in $LAB_TMP).
lab_ctl() {
    [[ -x $GATEWAYCTL ]] || _lab_die "no gatewayctl binary at $GATEWAYCTL: build it or set GATEWAYCTL=..."
    "$GATEWAYCTL" --socket "$LAB_TMP/control.sock" "$@"
}

_lab_require_gatewayd() {
    [[ -x $GATEWAYD ]] ||
        _lab_die "no gatewayd binary at $GATEWAYD: build it (cmake -S . -B build && cmake --build build), set GATEWAYD=..., or use LAB_NAT=kernel"
}
