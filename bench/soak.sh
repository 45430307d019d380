#!/usr/bin/env bash
# Soak: gatewayd in one lab for M minutes under mixed traffic, UPnP churn and periodic floods,
# watched for memory growth, table growth, drops and crashes. Not a CI test: run it by hand, as
# root, on a quiet machine (e.g. for an hour before a release).
#
#   bench/soak.sh [--minutes M (10)] [--interval S (30)] [--flood-every S (60)]
#
# Traffic, all the time: one iperf3 TCP flow LAN→WAN at 50 Mbit/s, one iperf3 UDP flow at 2 Mbit/s
# (512-byte datagrams), 100 short TCP connections a second (lab_probe tcp-connect), and UPnP
# churn: 20 AddPortMapping, a GetGenericPortMappingEntry walk and 20 DeletePortMapping, again and
# again (python3-miniupnpc). Every --flood-every seconds (the first after a third of that): a
# burst of SYNs with random spoofed sources from the WAN side to a static forward (hping3 if
# installed, else python3-scapy; neither: no SYNs, said so), and a second LAN host opening many UDP
# flows at once (lab_probe udp-flows).
# Flood limits are whatever the daemon has: nothing here depends on them.
#
# Every --interval seconds one line: elapsed time, the daemon's VmRSS, flows, NAT and UPnP
# mappings, engine drops (all reasons), NFQUEUE drops (kernel side: the queue was full), and how
# many times gatewayd was started and found dead (with its exit status; it is restarted then).
# At the end a summary. Exit status 0 when gatewayd never died and always answered, else 1.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../tests/lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/lab/lab.sh"
# shellcheck source=SCRIPTDIR/bench_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

readonly TCP_PORT=5201 UDP_PORT=5202 CONNECT_PORT=5300 FORWARD_PORT=8080
readonly SYN_BURST=5000 UDP_FLOOD_FLOWS=20000 CHURN_MAPPINGS=20
minutes=10
interval=30
flood_every=60

# What the soak saw, for the summary.
crashes=() rss_first='' rss_max=0 rss_last='' flows_max=0 mappings_max=0
status_asked=0 status_answered=0 floods=0 syns_sent=0 udp_flows_sent=0 drops_carried=0 drops_last=0
last_status=''

parse_args() {
    while (($#)); do
        case $1 in
        --minutes) minutes=${2:?--minutes needs a number}; shift 2 ;;
        --interval) interval=${2:?--interval needs seconds}; shift 2 ;;
        --flood-every) flood_every=${2:?--flood-every needs seconds}; shift 2 ;;
        -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "soak: unknown argument '$1' (see --help)" >&2; exit 2 ;;
        esac
    done
    [[ $minutes =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "soak: --minutes must be a number" >&2; exit 2; }
    [[ $interval =~ ^[1-9][0-9]*$ && $flood_every =~ ^[1-9][0-9]*$ ]] ||
        { echo "soak: --interval and --flood-every are whole seconds" >&2; exit 2; }
    total=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }')
    ((total >= 10)) || { echo "soak: at least 10 seconds (--minutes 0.2)" >&2; exit 2; }
}

soak_config() {
    cat <<EOF
lan: {interface: $LAB_GW_LAN_IF, networks: [$LAB_LAN_NET]}
wan: {interface: $LAB_GW_WAN_IF, address: auto}
upnp:
  enabled: true
  http_port: $LAB_UPNP_HTTP_PORT
  lease_file: $LAB_TMP/soak.leases
firewall:
  forwards:
    - {name: soak-flood-target, protocol: tcp, external_port: $FORWARD_PORT, internal: "$LAB_LAN_IP:$FORWARD_PORT"}
EOF
}

setup() {
    bench_require_program "$LAB_PROBE"
    # --wan2: the gateway gets a default route, so replies to spoofed sources are routed as on a real line.
    # Two LAN hosts: the first carries the steady traffic and the UPnP churn, the second floods, so
    # the per-host limits show whether a flooding host leaves the others working.
    lab_up --nat none --wan2 --lan-hosts 2
    soak_config >"$LAB_TMP/soak.yaml"
    lab_daemon_start --config "$LAB_TMP/soak.yaml"
    lab_upnp_discover lan || lab_fail "no IGD found from the LAN host: $LAB_UPNP_DISCOVERY"
    flood_tool=$(syn_flood_tool)
}

start_traffic() {
    lab_bg wan iperf-tcp-server iperf3 -s -p "$TCP_PORT"
    lab_bg wan iperf-udp-server iperf3 -s -p "$UDP_PORT"
    lab_bg wan connect-server "$LAB_PROBE" tcp-server --port "$CONNECT_PORT"
    lab_bg lan forward-target "$LAB_PROBE" tcp-server --port "$FORWARD_PORT"
    lab_wait_listen wan tcp "$TCP_PORT"
    lab_wait_listen wan tcp "$UDP_PORT"
    lab_wait_listen wan tcp "$CONNECT_PORT"
    lab_wait_listen lan tcp "$FORWARD_PORT"
    lab_bg lan iperf-tcp iperf3 -c "$LAB_WAN_IP" -p "$TCP_PORT" -t "$total" -b 50M -J
    tcp_client=$LAB_BG_PID
    lab_bg lan iperf-udp iperf3 -c "$LAB_WAN_IP" -p "$UDP_PORT" -t "$total" -u -b 2M -l 512 -J
    udp_client=$LAB_BG_PID
    lab_bg lan short-connections "$LAB_PROBE" tcp-connect --to "$LAB_WAN_IP:$CONNECT_PORT" \
        --seconds "$total" --rate 100 --parallel 16
    connect_client=$LAB_BG_PID
    upnp_churn >"$LAB_TMP/churn.log" 2>&1 &
    churn_pid=$!
}

# One line per cycle in churn.log: "ok" or "failed: why". Runs until killed.
upnp_churn() {
    local out
    while true; do
        out=$(lab_upnp_py lan bench --count "$CHURN_MAPPINGS" --first-port 30000 --lease 600 2>&1 | tail -n 1) || true
        if [[ $out == "{"* ]]; then echo ok; else echo "failed: $out"; fi
        sleep 1
    done
}

# What sends the spoofed SYNs: hping3 if installed, else Debian's python3 with scapy, else nothing.
# shellcheck disable=SC2153 # LAB_UPNP_PY: Debian's python3 (python3-scapy), from lab_upnp.sh
syn_flood_tool() {
    if command -v hping3 >/dev/null; then
        echo hping3
    elif "$LAB_UPNP_PY" -c 'import scapy.all' 2>/dev/null; then
        echo scapy
    else
        echo none
    fi
}

# syn_flood: SYN_BURST SYNs from random sources to the forward, from the WAN host. Fails if the tool does.
syn_flood() {
    if [[ $flood_tool == hping3 ]]; then
        # hping3 exits 1 when no reply came back, which is what a limited flood looks like:
        # it failed only if it did not send them all.
        lab_wan timeout 60 hping3 -q -S -p "$FORWARD_PORT" --rand-source -i u100 -c "$SYN_BURST" "$LAB_GW_WAN_IP" \
            >"$LAB_TMP/syn-flood.log" 2>&1
        grep -Eq "^$SYN_BURST packets tra(ns)?mitted" "$LAB_TMP/syn-flood.log"  # hping3 writes "tramitted"
    else
        lab_wan timeout 60 "$LAB_UPNP_PY" - "$LAB_GW_WAN_IP" "$FORWARD_PORT" "$SYN_BURST" >"$LAB_TMP/syn-flood.log" 2>&1 <<'EOF'
import sys
from scapy.all import IP, TCP, RandIP, RandInt, RandShort, conf
target, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sock = conf.L3socket()
for _ in range(count):
    sock.send(IP(src=RandIP(), dst=target) / TCP(sport=RandShort(), dport=port, flags="S", seq=RandInt()))
EOF
    fi
}

flood() {
    local syns flows
    floods=$((floods + 1))
    if [[ $flood_tool == none ]]; then
        syns="no spoofed SYNs (install hping3 or python3-scapy)"
    elif syn_flood; then
        syns_sent=$((syns_sent + SYN_BURST))
        syns="$SYN_BURST spoofed SYNs to $LAB_GW_WAN_IP:$FORWARD_PORT ($flood_tool)"
    else
        syns="the SYN burst failed ($flood_tool: $(tail -n 1 "$LAB_TMP/syn-flood.log"))"
    fi
    flows=$(lab_in lan2 timeout 60 "$LAB_PROBE" udp-flows --to "$LAB_WAN_IP" --first-port 10000 \
        --flows "$UDP_FLOOD_FLOWS" --sockets 100 | bench_json_figure sent) || flows=0
    [[ $flows == n/a ]] && flows=0
    udp_flows_sent=$((udp_flows_sent + flows))
    printf '%6ss  flood %d: %s, %s UDP flows from the second LAN host\n' "$(elapsed)" "$floods" "$syns" "$flows"
}

elapsed() { echo $((SECONDS - soak_start)); }

# A dead daemon is counted with its exit status and started again.
check_daemon() {
    _lab_pid_gone "$LAB_DAEMON_PID" || return 0
    local rc=0 how
    wait "$LAB_DAEMON_PID" 2>/dev/null || rc=$?
    how="exit status $rc"
    if ((rc > 128)); then how+=" (signal $((rc - 128)))"; fi
    crashes+=("at $(elapsed)s: $how")
    printf '%6ss  gatewayd (pid %s) is gone: exit status %s; its log ends:\n' "$(elapsed)" "$LAB_DAEMON_PID" "$rc"
    tail -n 5 "$LAB_DAEMON_LOG" | sed 's/^/          /'
    drops_carried=$((drops_carried + drops_last))
    drops_last=0
    LAB_DAEMON_PID=''
    lab_daemon_start
}

# Asks the daemon for its status; sets daemon_figures to "flows nat_mappings upnp_mappings
# drops_total", or to nothing if it did not answer within 5 s.
ask_daemon() {
    daemon_figures=''
    status_asked=$((status_asked + 1))
    last_status=$(timeout 5 "$GATEWAYCTL" --socket "$LAB_TMP/control.sock" --json status 2>/dev/null) || return 0
    status_answered=$((status_answered + 1))
    daemon_figures=$("$LAB_PY" -c 'import json, sys
s = json.loads(sys.argv[1])
print(s["flows"], s["nat_mappings"], s["upnp_mappings"], s["counters"]["drops_total"])' "$last_status")
}

# NFQUEUE drops in the gateway namespace: queue full (queue_dropped) plus failed sends to the daemon (user_dropped).
queue_drops() {
    # shellcheck disable=SC2016 # awk's own $6 and $7
    lab_gw awk '{ dropped += $6 + $7 } END { print dropped + 0 }' /proc/net/netfilter/nfnetlink_queue 2>/dev/null || echo n/a
}

report_line() {
    local rss flows=n/a nat=n/a upnp=n/a drops=n/a
    rss=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$LAB_DAEMON_PID/status" 2>/dev/null) || true
    ask_daemon
    if [[ -n $daemon_figures ]]; then
        read -r flows nat upnp drops_last <<<"$daemon_figures"
        drops=$((drops_carried + drops_last))
        if ((flows > flows_max)); then flows_max=$flows; fi
        if ((nat > mappings_max)); then mappings_max=$nat; fi
    fi
    if [[ -n $rss ]]; then
        rss_first=${rss_first:-$rss}
        rss_last=$rss
        rss_max=$(awk -v a="$rss" -v b="$rss_max" 'BEGIN { print (a > b ? a : b) }')
    fi
    printf '%6ss  rss %7s MiB  flows %7s  nat mappings %6s  upnp mappings %4s  drops %8s  queue drops %6s  starts %d  deaths %d\n' \
        "$(elapsed)" "${rss:-n/a}" "$flows" "$nat" "$upnp" "$drops" "$(queue_drops)" "$LAB_DAEMON_STARTS" "${#crashes[@]}"
}

# Waits (10 s at most) for the timed clients to end by themselves, so their reports are complete.
stop_traffic() {
    kill "$churn_pid" 2>/dev/null || true
    wait "$churn_pid" 2>/dev/null || true
    local pid
    for pid in "$tcp_client" "$udp_client" "$connect_client"; do lab_poll 10 _lab_pid_gone "$pid" || true; done
}

summary() {
    local churn_ok churn_failed tcp_mbit udp_loss connections failed_connections
    churn_ok=$(grep -c '^ok' "$LAB_TMP/churn.log" || true)
    churn_failed=$(grep -c '^failed' "$LAB_TMP/churn.log" || true)
    tcp_mbit=$(bench_json_figure end.sum_received.bits_per_second <"$LAB_TMP/iperf-tcp.log")
    [[ $tcp_mbit == n/a ]] || tcp_mbit=$(awk -v b="$tcp_mbit" 'BEGIN { printf "%.1f", b / 1e6 }')
    udp_loss=$(bench_json_figure end.sum_received.lost_percent <"$LAB_TMP/iperf-udp.log")
    [[ $udp_loss == n/a ]] || udp_loss=$(awk -v p="$udp_loss" 'BEGIN { printf "%.3f", p }')
    connections=$(bench_json_figure completed <"$LAB_TMP/short-connections.log")
    failed_connections=$(bench_json_figure failed <"$LAB_TMP/short-connections.log")
    echo
    echo "soak summary: $minutes min ($total s), gatewayd $GATEWAYD"
    echo "  gatewayd: started $LAB_DAEMON_STARTS time(s), found dead ${#crashes[@]} time(s); answered $status_answered of $status_asked status requests"
    local crash
    for crash in "${crashes[@]}"; do echo "    died $crash"; done
    echo "  memory (VmRSS): first ${rss_first:-n/a} MiB, last ${rss_last:-n/a} MiB, highest $rss_max MiB"
    echo "  flows: highest $flows_max; NAT mappings: highest $mappings_max"
    echo "  engine drops: $((drops_carried + drops_last)) in all; NFQUEUE drops: $(queue_drops)"
    if [[ -n $last_status ]]; then
        "$LAB_PY" -c 'import json, sys
for reason, count in sorted(json.loads(sys.argv[1])["counters"]["drops"].items(), key=lambda rc: -rc[1]):
    print(f"    {reason}: {count}")' "$last_status"
    fi
    echo "  traffic: iperf3 TCP $tcp_mbit Mbit/s received, iperf3 UDP loss $udp_loss %, short TCP connections $connections completed / $failed_connections failed"
    echo "  UPnP churn: $churn_ok cycles of $CHURN_MAPPINGS mappings done, $churn_failed failed"
    if ((churn_failed > 0)); then grep -m 3 '^failed' "$LAB_TMP/churn.log" | sed 's/^/    /'; fi
    echo "  floods: $floods ($syns_sent spoofed SYNs, $udp_flows_sent UDP flows)"
}

parse_args "$@"
setup
start_traffic
soak_start=$SECONDS
bench_progress "soak: $total s; a line every $interval s, a flood every $flood_every s (gatewayd log: $LAB_DAEMON_LOG)"
next_report=$interval
reported_at=-1
next_flood=$((flood_every / 3))
while (($(elapsed) < total)); do
    sleep 1
    check_daemon
    if (($(elapsed) >= next_flood)); then
        flood
        next_flood=$((next_flood + flood_every))
    fi
    if (($(elapsed) >= next_report)); then
        report_line
        reported_at=$(elapsed)
        next_report=$((next_report + interval))
    fi
done
if ((reported_at != $(elapsed))); then report_line; fi
stop_traffic
summary
((${#crashes[@]} == 0 && status_answered == status_asked))
