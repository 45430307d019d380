#!/usr/bin/env bash
# Shared by tests/integration/flood_*.sh (issue 7, floods): the fast traffic generator
# (bench/lab_probe), and what the daemon says about itself while it is flooded — its counters
# (`gatewayctl status --json`), the flows it holds (`gatewayctl flows --json`) and its resident
# memory. Source it after lab.sh.

LAB_PROBE=${LAB_PROBE:-$(dirname "$GATEWAYD")/../bench/lab_probe}

# flood_require: the flood tests are about gatewayd's limits and counters, sent by lab_probe.
flood_require() {
    [[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the flood tests read gatewayd's limits and counters; LAB_NAT=${LAB_NAT:-}"
    [[ -x $LAB_PROBE ]] || lab_skip "no lab_probe at $LAB_PROBE: build it (cmake --build build --target lab_probe) or set LAB_PROBE=..."
}

# flood_lab_up LAN-HOSTS CONFIG-FUNCTION: the lab with LAN-HOSTS hosts, and gatewayd started with
# the config CONFIG-FUNCTION prints. The daemon starts only once $LAB_TMP exists, so the config can
# put upnp.lease_file there: its directory is where the daemon hands its flow table over to the
# next start, and the default (/var/lib/gatewayd) is shared with every other lab on the machine.
flood_lab_up() {
    lab_up --nat none --lan-hosts "$1"
    lab_daemon_start --config <("$2")
}

# flood_probe ROLE ARGS...: lab_probe in ROLE's namespace (its JSON line on stdout).
flood_probe() {
    local role=$1
    shift
    lab_in "$role" "$LAB_PROBE" "$@"
}

# flood_counter NAME: a counter of `gatewayctl status --json`: a drop reason (host_flow_limit...)
# or an engine counter (flows_evicted, flows_created...); 0 when the daemon never counted it.
flood_counter() {
    lab_ctl --json status | "$LAB_PY" -c '
import json, sys
counters = json.load(sys.stdin)["counters"]
name = sys.argv[1]
print(counters["drops"].get(name, counters.get(name, 0)))' "$1" || lab_fail "gatewayctl status failed (is the daemon alive?)"
}

# flood_kernel_drops: packets the kernel dropped before gatewayd saw them (every queue's
# queue_full_drops + kernel_user_drops + enobufs): an exact count needs this to stay 0.
flood_kernel_drops() {
    lab_ctl --json status | "$LAB_PY" -c '
import json, sys
queues = json.load(sys.stdin)["queues"]
print(sum(q["queue_full_drops"] + q["kernel_user_drops"] + q["enobufs"] for q in queues))'
}

# flood_count_flows FIELD=VALUE...: how many flows the daemon holds whose fields all match
# (fields of `gatewayctl flows`: protocol, state, internal, remote, origin...; a VALUE ending in
# '*' matches by prefix, so internal=192.168.50.10:* is every flow of that LAN host).
flood_count_flows() {
    lab_ctl --json flows | "$LAB_PY" -c '
import json, sys
wanted = [arg.split("=", 1) for arg in sys.argv[1:]]
def matches(flow, key, value):
    have = str(flow.get(key, ""))
    return have.startswith(value[:-1]) if value.endswith("*") else have == value
print(sum(all(matches(f, k, v) for k, v in wanted) for f in json.load(sys.stdin)["flows"]))' "$@" ||
        lab_fail "gatewayctl flows failed (is the daemon alive?)"
}

# flood_count_external_ports HOST: distinct external ports the flows of LAN host HOST use
# (its NAT mappings), per protocol.
flood_count_external_ports() {
    lab_ctl --json flows | "$LAB_PY" -c '
import json, sys
host = sys.argv[1] + ":"
print(len({(f["protocol"], f["external_port"]) for f in json.load(sys.stdin)["flows"]
           if f["internal"].startswith(host) and f["origin"] == "lan"}))' "$1" ||
        lab_fail "gatewayctl flows failed (is the daemon alive?)"
}

# flood_rss_kib: the daemon's resident memory now.
flood_rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$LAB_DAEMON_PID/status"; }

# flood_json_field JSON KEY: one field of lab_probe's one-line report.
flood_json_field() { lab_json "$2" <<<"$1"; }

# flood_expect_alive WHEN: the daemon did not die under the flood.
flood_expect_alive() {
    if _lab_pid_gone "$LAB_DAEMON_PID"; then lab_fail "$1: gatewayd died"; fi
}

# flood_finish PID EXPECTED: waits for the background lab_probe udp-flows (its output in
# $LAB_TMP/flood.log), checks it sent EXPECTED datagrams, and that the daemon lived through it.
flood_finish() {
    local report sent
    wait "$1" || lab_fail "lab_probe udp-flows failed: $(cat "$LAB_TMP/flood.log")"
    report=$(tail -n 1 "$LAB_TMP/flood.log")
    sent=$(flood_json_field "$report" sent)
    ((sent == $2)) || lab_fail "lab_probe sent $sent of $2 datagrams: $report"
    flood_expect_alive "after the flood"
}
