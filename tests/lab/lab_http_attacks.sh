# shellcheck shell=bash
# Helpers of the tests that attack the IGD's HTTP front end from a LAN host (issue 14),
# sourced after lab.sh by tests/integration/upnp_http_*.sh and upnp_gena_flood_*.sh.
#
#     lab_http ROLE ARGS...        tests/lab/labhttp.py (raw-socket hostile client) in ROLE
#     lab_http_rss_kb              gatewayd's resident set now, in KiB
#     lab_http_expect_rss_within BEFORE-KB MB WHAT   RSS grew by less than MB MiB since BEFORE-KB
#     lab_http_legit_client_works ROLE PORT WHAT   upnpc in ROLE adds, lists and deletes TCP PORT

LAB_HTTP_PY=$LAB_DIR/labhttp.py

lab_http() {
    local role=$1
    shift
    lab_in "$role" "$LAB_UPNP_PY" "$LAB_HTTP_PY" "$@"
}

lab_http_rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$LAB_DAEMON_PID/status"; }

lab_http_expect_rss_within() {
    local before=$1 limit_mb=$2 what=$3 now
    now=$(lab_http_rss_kb)
    # AddressSanitizer's quarantine keeps freed memory resident: no bound means anything there.
    if lab_daemon_sanitized; then
        lab_ok "$what: gatewayd's RSS $before KiB -> $now KiB (sanitized build: not bounded)"
        return 0
    fi
    ((now - before < limit_mb * 1024)) ||
        lab_fail "$what: gatewayd's RSS went from $before KiB to $now KiB (limit +$limit_mb MiB)"
    lab_ok "$what: gatewayd's RSS $before KiB -> $now KiB (limit +$limit_mb MiB)"
}

lab_http_legit_client_works() {
    local role=$1 port=$2 what=$3 out ip
    ip=$(lab_in "$role" ip -4 -o addr show dev "$LAB_HOST_IF" | awk '{split($4, a, "/"); print a[1]}')
    out=$(lab_upnpc "$role" -e legit -a "$ip" "$port" "$port" TCP 600 2>&1) ||
        lab_fail "$what: upnpc on $role could not add TCP $port:"$'\n'"$out"
    lab_upnp_expect_listed "$role" TCP "$port" "$ip:$port" "$what"
    out=$(lab_upnpc "$role" -d "$port" TCP 2>&1) || lab_fail "$what: upnpc on $role could not delete TCP $port:"$'\n'"$out"
    lab_ok "$what: upnpc on $role added, listed and deleted TCP $port"
}
