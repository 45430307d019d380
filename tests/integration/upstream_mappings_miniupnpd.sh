#!/usr/bin/env bash
# Mappings carried through an upstream NAT (issue 19) whose port-control service is Debian's
# miniupnpd (UPnP IGD), as an ISP modem in router mode runs it: tests/lab/lab_two_nats.sh's lab,
#   LAN host ─ gateway (gatewayd, WAN 100.64.0.2) ─ ISP box (kernel NAT + miniupnpd, 45.76.113.1) ─ internet host
# with wan.upstream_mappings left at its default (auto: PCP and NAT-PMP get no answer from
# miniupnpd, UPnP IGD does). The Messenger scenarios, twice NATed:
#   - the LAN host is told the upstream's address (upnpc -s: ExternalIPAddress 45.76.113.1);
#   - upnpc -a for TCP 3389 (Remote Assistance), 1503 (application sharing), 6891 and 6900 (file
#     transfer) and UDP 5004 and 40004 (RTP): each is carried to miniupnpd (its own listing, from
#     the gateway namespace), and a connection or a datagram from the internet host to
#     45.76.113.1:port reaches the LAN host's listener through both NATs;
#   - upnpc -d closes both halves; a 6 s lease running out closes both halves;
#   - gatewayctl status shows the upstream in use (UPnP, miniupnpd's control URL, 45.76.113.1);
#   - the upstream halves are in the state file (<lease file>.upstream) after a stop, and a restart
#     of the gateway's gatewayd re-claims the one miniupnpd lost meanwhile;
#   - miniupnpd stopped: wan.upstream_failure keep (the default) grants with a warning in the
#     log; refuse (the gateway restarted with it while miniupnpd answered) refuses the mapping
#     (a UPnP error) and keeps nothing locally.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "carrying mappings upstream is gatewayd's; LAB_NAT=${LAB_NAT:-}"

readonly TCP_PORTS=(3389 1503 6891 6900) UDP_PORTS=(5004 40004)
readonly SHORT_PORT=6895 SHORT_LEASE=6 KEEP_PORT=6896 REFUSE_PORT=6897 UPSTREAM=$LAB_UPNP_REFERENCE_EXTERNAL_IP

# upnpc_add PROTO PORT [LEASE]: the LAN host maps PORT to itself (upnpc -e DESC -a), lease 3600 s
# unless given; sets UPNPC_OUT. Fails the test when refused.
upnpc_add() {
    UPNPC_OUT=$(lab_upnpc lan -e "msmsgs $2 $1" -a "$LAB_LAN_IP" "$2" "$2" "$1" "${3:-3600}" 2>&1) ||
        lab_fail "upnpc -a $2 $1 failed:"$'\n'"$UPNPC_OUT"
    grep -q "is redirected to internal $LAB_LAN_IP:$2" <<<"$UPNPC_OUT" ||
        lab_fail "upnpc -a $2 $1 was not granted:"$'\n'"$UPNPC_OUT"
}

# logged_since LINES REGEX: the daemon's log, past its first LINES lines, has a line matching REGEX.
logged_since() { tail -n +"$(($1 + 1))" "$LAB_DAEMON_LOG" | grep -qiE -- "$2"; }

# carried PROTO PORT: the upstream holds it (same port asked) and the internet host gets through.
carried() {
    local proto=$1 port=$2 lower
    lower=$(tr '[:upper:]' '[:lower:]' <<<"$proto")
    lab_isp_expect_mapped "$proto" "$port" "upnpc -a $port $proto"
    lab_two_nats_expect_open lan "$lower" "$LAB_ISP_PORT" "$port" "$proto $port carried to miniupnpd's $LAB_ISP_PORT"
    lab_ok "$proto $port: miniupnpd holds $UPSTREAM:$LAB_ISP_PORT → $LAB_GW_WAN_IP:$port; the internet host reaches $LAB_LAN_IP:$port through both NATs"
}

lab_heading "the upstream is miniupnpd $("$LAB_MINIUPNPD" --version 2>&1 | head -n 1 | awk '{print $2}') (UPnP IGD) on the ISP box"
lab_two_nats_up --upstream miniupnpd
lab_two_nats_listen lan "${TCP_PORTS[@]}" "${UDP_PORTS[@]}" "$SHORT_PORT" "$KEEP_PORT"
# Discovery runs in the background after start (PCP, NAT-PMP, then an SSDP search of 2 s).
lab_upstream_expect_using "UPnP IGD" "discovery"
lab_ok "the gateway found the upstream: $LAB_UPSTREAM_LINE"

out=$(lab_upnpc lan -s 2>&1) || true
grep -q "ExternalIPAddress = $UPSTREAM\$" <<<"$out" ||
    lab_fail "upnpc -s: the LAN host is not told the upstream's address $UPSTREAM:"$'\n'"$out"
lab_ok "upnpc -s on the LAN host: ExternalIPAddress = $UPSTREAM (the upstream's)"

lab_heading "Messenger's mappings, carried upstream"
for port in "${TCP_PORTS[@]}"; do upnpc_add TCP "$port"; done
for port in "${UDP_PORTS[@]}"; do upnpc_add UDP "$port"; done
grep -q "external $UPSTREAM:40004 UDP" <<<"$UPNPC_OUT" ||
    lab_fail "upnpc -a 40004 UDP does not report the upstream's address:"$'\n'"$UPNPC_OUT"
# A short lease, whose end is checked below, while the other checks run.
upnpc_add TCP "$SHORT_PORT" "$SHORT_LEASE"
lab_isp_expect_mapped TCP "$SHORT_PORT" "a ${SHORT_LEASE} s lease"
lab_two_nats_expect_open lan tcp "$LAB_ISP_PORT" "$SHORT_PORT" "a ${SHORT_LEASE} s lease, before it runs out"
lab_upnp_expect_listed lan TCP "$SHORT_PORT" "$LAB_LAN_IP:$SHORT_PORT" "the gateway's listing before the lease ends"
lab_ok "TCP $SHORT_PORT for ${SHORT_LEASE} s: carried to miniupnpd's $LAB_ISP_PORT and reachable, until its lease ends"
for port in "${TCP_PORTS[@]}"; do carried TCP "$port"; done
for port in "${UDP_PORTS[@]}"; do carried UDP "$port"; done

lab_upstream_expect_using "UPnP IGD" "six mappings carried"
# Six, and the short lease's while it lasts.
carried_now=$(lab_upstream_field mappings_carried)
((carried_now == 6 || carried_now == 7)) ||
    lab_fail "status upstream.mappings_carried is $carried_now, expected 6 (7 while TCP $SHORT_PORT's lease lasts)"
lab_ok "gatewayctl status: $LAB_UPSTREAM_LINE"

lab_heading "deleting, and a lease running out, close both halves"
out=$(lab_upnpc lan -d 3389 TCP 2>&1) || lab_fail "upnpc -d 3389 TCP failed:"$'\n'"$out"
lab_isp_expect_unmapped TCP 3389 "after upnpc -d 3389 TCP"
lab_two_nats_expect_closed lan tcp 3389 3389 "after upnpc -d 3389 TCP"
lab_ok "upnpc -d 3389 TCP: gone from miniupnpd, the internet host no longer gets through"

lab_poll $((SHORT_LEASE + 6)) _lab_isp_unmapped TCP "$SHORT_PORT" ||
    lab_fail "the ${SHORT_LEASE} s lease ran out but miniupnpd still holds TCP $SHORT_PORT:"$'\n'"$(lab_isp_mappings)"
lab_upnp_expect_unlisted lan TCP "$SHORT_PORT" "the gateway's listing after the lease ran out"
lab_two_nats_expect_closed lan tcp "$SHORT_PORT" "$SHORT_PORT" "after the lease ran out"
lab_ok "a ${SHORT_LEASE} s lease ran out: gone from the gateway and from miniupnpd, closed from the internet"

lab_heading "a restart of the gateway's gatewayd re-claims the upstream halves"
lab_daemon_stop
grep -qE "^tcp 1503 via=upnp external=${UPSTREAM//./\\.}:[0-9]+ " "$LAB_UPNP_LEASE_FILE.upstream" ||
    lab_fail "the upstream state file does not hold TCP 1503's upstream half:"$'\n'"$(cat "$LAB_UPNP_LEASE_FILE.upstream" 2>&1)"
# What an upstream that lost its state while we were down looks like: 1503 gone up there.
lab_isp_upnpc -d 1503 TCP >/dev/null 2>&1 || true
lab_isp_expect_unmapped TCP 1503 "deleted on miniupnpd while the gateway was down" 1
lab_daemon_start
lab_isp_expect_mapped TCP 1503 "after the restart" 10
lab_two_nats_expect_open lan tcp "$LAB_ISP_PORT" 1503 "TCP 1503 after the restart"
lab_isp_expect_mapped UDP 5004 "after the restart"
lab_two_nats_expect_open lan udp "$LAB_ISP_PORT" 5004 "UDP 5004 after the restart"
lab_ok "after a SIGTERM restart: TCP 1503 claimed again on miniupnpd, UDP 5004 still carried; both reach the LAN host"

lab_heading "the upstream's service stopped: wan.upstream_failure keep (the default), then refuse"
lab_isp_stop
log_lines_before=$(wc -l <"$LAB_DAEMON_LOG")
kept_before=$(lab_upstream_field counters.kept_without_upstream)
upnpc_add TCP "$KEEP_PORT"
lab_upnp_expect_listed lan TCP "$KEEP_PORT" "$LAB_LAN_IP:$KEEP_PORT" "keep: the local mapping"
lab_poll 8 logged_since "$log_lines_before" "warning: upstream: .*tcp $KEEP_PORT.*kept" ||
    lab_fail "keep: no warning in the log that TCP $KEEP_PORT is kept without its upstream half"
(($(lab_upstream_field counters.kept_without_upstream) > kept_before)) ||
    lab_fail "keep: status upstream.counters.kept_without_upstream did not grow from $kept_before"
lab_ok "keep: granted locally, counted (kept_without_upstream), and the log warns: $(grep -iE "upstream: .*tcp $KEEP_PORT.*kept" "$LAB_DAEMON_LOG" | tail -n 1)"

# refuse: the gateway starts while miniupnpd answers (so it is the upstream in use), which then stops.
lab_isp_start
lab_daemon_stop
lab_daemon_start --config <(lab_two_nats_config upstream_failure=refuse)
lab_upstream_expect_using "UPnP IGD" "wan.upstream_failure refuse, before miniupnpd stops"
lab_isp_stop
refused_before=$(lab_upstream_field counters.refused_locally)
out=$(lab_upnpc lan -e refused -a "$LAB_LAN_IP" "$REFUSE_PORT" "$REFUSE_PORT" TCP 3600 2>&1) || true
if grep -q "is redirected to internal" <<<"$out"; then
    lab_fail "wan.upstream_failure refuse: the mapping was granted with miniupnpd stopped:"$'\n'"$out"
fi
grep -qE "failed with code [0-9]+" <<<"$out" || lab_fail "wan.upstream_failure refuse: upnpc got no UPnP error:"$'\n'"$out"
lab_upnp_expect_unlisted lan TCP "$REFUSE_PORT" "a mapping refused for the upstream"
(($(lab_upstream_field counters.refused_locally) > refused_before)) ||
    lab_fail "refuse: status upstream.counters.refused_locally did not grow from $refused_before"
grep -qiE "upstream: .*tcp $REFUSE_PORT.*undone" "$LAB_DAEMON_LOG" ||
    lab_fail "refuse: the log does not say TCP $REFUSE_PORT's local mapping was undone"
lab_ok "refuse: AddPortMapping answered $(grep -oE 'failed with code [0-9]+ \([^)]*\)' <<<"$out" | head -n 1); nothing kept locally"
echo "PASS  mappings carried through miniupnpd: reachable through both NATs, deleted and expired on both, re-claimed after a restart, failure policy applied"
