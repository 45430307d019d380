#!/usr/bin/env bash
# ctest: sanitize
# pupnp prints to stderr on its own ("too many jobs", thousands of lines a second under a flood,
# issue 14), and those bytes used to land raw between gatewayd's own lines, breaking journald's
# "<N>" priority prefix. Now the daemon's fd 2 is a pipe it reads: what anything writes there
# (here: the test itself, through /proc/PID/fd/2, as pupnp would - a partial line, then 5000 lines
# at once) comes out as whole "gatewayd: warning: pupnp: ..." lines, at most ~10 a second with a
# count of those held back, and every line of the log still starts with "gatewayd: ".
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the capture is gatewayd's"

lab_upnp_up
lab_heading "pupnp's stderr in gatewayd's log"
[[ $(readlink "/proc/$LAB_DAEMON_PID/fd/2") == pipe:* ]] ||
    lab_fail "gatewayd's stderr is $(readlink "/proc/$LAB_DAEMON_PID/fd/2"), not the pipe it reads"
lab_ok "gatewayd's fd 2 is a pipe"

# A line written in two pieces, as a thread's fprintf may be.
/usr/bin/python3 - "/proc/$LAB_DAEMON_PID/fd/2" <<'PY'
import sys, time
with open(sys.argv[1], "w") as pupnp:
    pupnp.write("total jobs = 100, too ")
    pupnp.flush()
    time.sleep(0.3)
    pupnp.write("many jobs\n")
PY
lab_wait_log "$LAB_DAEMON_LOG" "gatewayd: warning: pupnp: total jobs = 100, too many jobs" ||
    lab_fail "no whole pupnp line in the log:"$'\n'"$(tail -20 "$LAB_DAEMON_LOG")"
lab_ok "a line written in two pieces is one line: gatewayd: warning: pupnp: total jobs = 100, too many jobs"

/usr/bin/python3 - "/proc/$LAB_DAEMON_PID/fd/2" <<'PY'
import sys
with open(sys.argv[1], "w") as pupnp:
    for i in range(5000):
        pupnp.write(f"flood line {i}\n")
PY
# accounted: the flood's lines logged plus those counted as held back (FLOOD, HELD).
accounted() {
    FLOOD=$(grep -c "gatewayd: warning: pupnp: flood line" "$LAB_DAEMON_LOG" || true)
    HELD=$(grep -oE "pupnp: [0-9]+ more line\(s\) held back" "$LAB_DAEMON_LOG" | awk '{ sum += $2 } END { print sum + 0 }')
    ((FLOOD + HELD == 5000))
}
lab_poll 8 accounted || lab_fail "5000 lines written: $FLOOD logged + $HELD counted as held back:"$'\n'"$(tail -20 "$LAB_DAEMON_LOG")"
((FLOOD >= 10 && FLOOD <= 200)) || lab_fail "5000 lines written, $FLOOD logged: expected the rate limit's worth"
flood=$FLOOD held=$HELD
lab_ok "5000 lines: $flood logged, $held counted as held back"
bad=$(grep -cv "^gatewayd: " "$LAB_DAEMON_LOG" || true)
((bad == 0)) || lab_fail "$bad line(s) of the log do not start with 'gatewayd: ':"$'\n'"$(grep -v "^gatewayd: " "$LAB_DAEMON_LOG" | head -5)"
lab_ok "every line of the log starts with 'gatewayd: '"
lab_ctl status >/dev/null || lab_fail "gatewayd stopped answering after the flood"
echo "PASS  stderr written to gatewayd becomes whole, leveled, rate-limited log lines"
