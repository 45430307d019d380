#!/usr/bin/env bash
# An idle gatewayd sleeps: with no traffic its threads wait in poll, recvmmsg or a condition
# variable, so over a few idle seconds it uses a sliver of one core. Checked twice: with no
# other NAT upstream (the upstream worker has nothing to do), and behind the ISP's NAT with
# no port-control service there (the worker looks for one and backs off). A thread that turns
# round on a wake-up it cannot act on (the upstream worker did, issue 19, and cost 22 % of
# the bench's TCP) uses the whole core instead: 93 % on that build, against 0-1 % idle. The
# bound, 25 %, sits far from both, so a busy machine does not fail it and a spin cannot pass.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "gatewayd's own CPU is measured here; LAB_NAT=${LAB_NAT:-}"

readonly IDLE_SECONDS=3 MOST_PERCENT=25

# cpu_ticks: user + system clock ticks of every gatewayd thread so far (/proc/PID/stat 14, 15).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$LAB_DAEMON_PID/stat"; }

# expect_idle WHAT: gatewayd's CPU over IDLE_SECONDS stays under MOST_PERCENT of one core.
expect_idle() {
    local hz before after percent
    hz=$(getconf CLK_TCK)
    before=$(cpu_ticks)
    sleep "$IDLE_SECONDS"
    after=$(cpu_ticks)
    percent=$(((after - before) * 100 / (hz * IDLE_SECONDS)))
    ((percent < MOST_PERCENT)) ||
        lab_fail "$1: gatewayd used ${percent} % of a core over ${IDLE_SECONDS} idle seconds ($((after - before)) ticks): a thread spins; $(ps -L -o tid=,pcpu=,comm= -p "$LAB_DAEMON_PID" | sort -k2 -nr | head -n 3 | tr '\n' ';')"
    lab_ok "$1: ${percent} % of a core over ${IDLE_SECONDS} idle seconds ($((after - before)) ticks at $hz Hz)"
}

lab_heading "no other NAT upstream"
lab_upnp_up
sleep 1  # past start-up's own work
expect_idle "no NAT upstream"
lab_down

lab_heading "behind the ISP's NAT, which offers no port-control service"
lab_upnp_up --upstream-nat
sleep 1
expect_idle "a NAT upstream, no service there"
echo "PASS  an idle gatewayd sleeps, with and without another NAT upstream"
