#!/usr/bin/env bash
# A SYN flood from the WAN with random spoofed sources (hping3 --rand-source, 40 000 SYNs) at a
# static forward (TCP 8080 → LAN host 2), far beyond nat.max_embryonic_inbound (64):
#   - exactly 64 WAN-started flows wait half-open in the table at the end, every other SYN is
#     dropped and counted (embryonic_limit; martian_wan_source for the random sources that are
#     loopback, multicast, the LAN's...): together they account for every SYN sent;
#   - during the flood LAN host 1 opens short TCP connections to the WAN host, and all succeed;
#   - the daemon's resident memory stays put, and its log holds a rate-limited handful of
#     embryonic_limit lines and says how many it suppressed.
# gatewayd only (its limits and counters are under test); needs hping3 and bench/lab_probe.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
# shellcheck source=SCRIPTDIR/../lab/lab_floods.sh
source "$LAB_DIR/lab_floods.sh"

# SYNS: hping3 sends them 50 µs apart, so the flood lasts ~5 s: well past the 0.3 s wait and the
# LAN connections' 1.5 s (and their 1 s timeout tail), even with a slow (sanitized) daemon.
# 20 000 (~2.7 s) once ended first in CI.
readonly EMBRYONIC_LIMIT=64 MAX_FLOWS=1024 SYNS=40000 FORWARD_PORT=8080 CONNECT_PORT=9000
readonly LOG_LINES_PER_SECOND=20 RSS_GROWTH_KIB=4096
SERVER_IP=$(lab_lan_ip 2)
readonly SERVER_IP

flood_config() {
    cat <<EOF
lan: {interface: $LAB_GW_LAN_IF, networks: [$LAB_LAN_NET]}
wan: {interface: $LAB_GW_WAN_IF, address: auto}
nat: {port_range: 1024-65535, max_mappings: $MAX_FLOWS, max_embryonic_inbound: $EMBRYONIC_LIMIT}
firewall:
  log_lines_per_second: $LOG_LINES_PER_SECOND
  forwards:
    - {name: web, protocol: tcp, external_port: $FORWARD_PORT, internal: "$SERVER_IP:$FORWARD_PORT"}
upnp: {enabled: false, lease_file: $LAB_TMP/gatewayd.leases}
EOF
}

flood_require
command -v hping3 >/dev/null || lab_skip "hping3 is not installed (tools/install-deps.sh installs it)"
flood_lab_up 2 flood_config
lab_heading "$SYNS spoofed SYNs at $LAB_GW_WAN_IP:$FORWARD_PORT → $SERVER_IP; nat.max_embryonic_inbound is $EMBRYONIC_LIMIT"
lab_bg lan2 forward-target "$LAB_PROBE" tcp-server --port "$FORWARD_PORT"
lab_bg wan connect-server "$LAB_PROBE" tcp-server --port "$CONNECT_PORT"
lab_wait_listen lan2 tcp "$FORWARD_PORT"
lab_wait_listen wan tcp "$CONNECT_PORT"
before=$(flood_probe lan tcp-connect --to "$LAB_WAN_IP:$CONNECT_PORT" --seconds 0.2 --parallel 1 --rate 10) ||
    lab_fail "lab_probe tcp-connect failed before the flood: $before"
if (($(flood_json_field "$before" completed) == 0 || $(flood_json_field "$before" failed) > 0)); then
    lab_fail "TCP LAN → WAN does not work even before the flood: $before"
fi

rss_before=$(flood_rss_kib)
refused_before=$(flood_counter embryonic_limit)
martian_before=$(flood_counter martian_wan_source)
drops_before=$(flood_counter drops_total)
kernel_drops_before=$(flood_kernel_drops)

lab_bg wan syn-flood hping3 -q -S -p "$FORWARD_PORT" --rand-source -i u50 -c "$SYNS" "$LAB_GW_WAN_IP"
flood_pid=$LAB_BG_PID
sleep 0.3 # the limit is reached within the first 64 SYNs
started=$(date +%s%N)
connects=$(flood_probe lan tcp-connect --to "$LAB_WAN_IP:$CONNECT_PORT" --seconds 1.5 --parallel 4 --rate 40 --timeout-ms 1000) ||
    lab_fail "lab_probe tcp-connect failed during the flood: $connects"
kill -0 "$flood_pid" 2>/dev/null || lab_fail "the SYN flood ended before the LAN connections did: raise SYNS (it proves nothing otherwise)"
completed=$(flood_json_field "$connects" completed)
failed=$(flood_json_field "$connects" failed)
((completed >= 20 && failed == 0)) ||
    lab_fail "during the flood LAN host 1's connections to the WAN host: $completed completed, $failed failed: $connects"
lab_ok "during the flood LAN host 1 completed $completed TCP connections to the WAN host, none failed"
lab_poll 60 _lab_pid_gone "$flood_pid" || lab_fail "hping3 did not finish its $SYNS SYNs within a minute"
wait "$flood_pid" || true # hping3 exits 1 when nothing answers, which is the point here
grep -q "^$SYNS packets transmitted" "$LAB_TMP/syn-flood.log" ||
    lab_fail "hping3 did not send its $SYNS SYNs: $(cat "$LAB_TMP/syn-flood.log")"
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
flood_expect_alive "after the SYN flood"

half_open=$(flood_count_flows origin=wan protocol=tcp "internal=$SERVER_IP:$FORWARD_PORT" state=syn_*)
all_wan=$(flood_count_flows origin=wan)
((half_open == EMBRYONIC_LIMIT && all_wan == EMBRYONIC_LIMIT)) ||
    lab_fail "the table holds $half_open half-open flows to the forward ($all_wan started from the WAN), expected exactly $EMBRYONIC_LIMIT"
lab_ok "the table holds exactly $half_open half-open flows to $SERVER_IP:$FORWARD_PORT"

kernel_drops=$(($(flood_kernel_drops) - kernel_drops_before))
refused=$(($(flood_counter embryonic_limit) - refused_before))
martian=$(($(flood_counter martian_wan_source) - martian_before))
other=$(($(flood_counter drops_total) - drops_before - refused - martian))
((refused + martian + EMBRYONIC_LIMIT == SYNS && other == 0)) ||
    lab_fail "of $SYNS SYNs: embryonic_limit $refused, martian_wan_source $martian, other drops $other, admitted $EMBRYONIC_LIMIT (packets the kernel dropped before gatewayd: $kernel_drops)"
((refused > SYNS / 2)) || lab_fail "only $refused SYNs were embryonic_limit drops; hping3's sources are mostly not martian"
evicted=$(flood_counter flows_evicted)
((evicted == 0)) || lab_fail "$evicted flows were evicted, though the table ($MAX_FLOWS) was never full"
lab_ok "every SYN accounted for: $EMBRYONIC_LIMIT admitted, $refused embryonic_limit, $martian martian_wan_source"

rss_after=$(flood_rss_kib)
if lab_daemon_sanitized; then
    lab_ok "resident memory ${rss_before} KiB before, ${rss_after} KiB after (not bounded: AddressSanitizer build)"
else
    ((rss_after - rss_before < RSS_GROWTH_KIB)) ||
        lab_fail "the daemon grew from $rss_before KiB to $rss_after KiB during the flood"
    lab_ok "resident memory ${rss_before} KiB before, ${rss_after} KiB after"
fi

logged=$(grep -c 'reason=embryonic_limit' "$LAB_DAEMON_LOG" || true)
((logged >= 1)) || lab_fail "no embryonic_limit drop was logged"
limit_lines=$((LOG_LINES_PER_SECOND * (elapsed_ms / 1000 + 3)))
((logged <= limit_lines)) || lab_fail "$logged embryonic_limit lines logged in ${elapsed_ms} ms: not rate-limited to $LOG_LINES_PER_SECOND/s"
grep -q 'lines suppressed' "$LAB_DAEMON_LOG" || lab_fail "the log does not say how many drop lines it suppressed"
lab_ok "the log holds $logged embryonic_limit lines for $refused drops over ${elapsed_ms} ms, and says how many it suppressed"
echo "PASS  a spoofed SYN flood stops at nat.max_embryonic_inbound, counted, memory bounded, and the LAN keeps connecting"
