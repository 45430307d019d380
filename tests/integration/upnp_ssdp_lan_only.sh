#!/usr/bin/env bash
# ctest: sanitize
# SSDP is the LAN's only, whatever the routing table says (issue 13.2, 14.6). The gateway has a
# default route via the WAN host (every lab's does), which is where pupnp's own NOTIFYs went.
# - A LAN host hears ssdp:alive for every target (upnp:rootdevice first) within 2 s of READY,
#   from 192.168.50.1:1900 with LOCATION on the LAN address, and ssdp:byebye at a clean stop.
# - An M-SEARCH ssdp:all with MX 2147483647 is answered once per target, all from port 1900
#   (the gateway's responder; pupnp, silenced, would answer again from another port), within 5 s.
# - Forged M-SEARCHes from the LAN wire, from the gateway's own address, the LAN broadcast
#   address and an address outside the LAN, get no answer and are counted.
# - SSDP from another socket of the gateway (what pupnp's ssdp:byebye is) leaves by neither side.
# - The WAN host hears no SSDP at all (a sniffer here; the lab's WAN watcher checks it too).
# LAB_NAT=gatewayd only (the counters and the silencing are gatewayd's).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly SSDP_PY=$LAB_DIR/labssdp.py
readonly LOCATION="http://$LAB_GW_LAN_IP:$LAB_UPNP_HTTP_PORT/igd/rootDesc.xml"
readonly TARGETS=10 # IGD:1: 3 for the root, 2 per embedded device (2), 1 per service (3)

ssdp_py() {
    local role=$1
    shift
    lab_in "$role" "$LAB_PY" "$SSDP_PY" "$@"
}

# ssdp_count KEY: gatewayctl status's ssdp.KEY (0 when missing).
ssdp_count() {
    lab_ctl --json status | "$LAB_PY" -c 'import json, sys
print(json.load(sys.stdin).get("ssdp", {}).get(sys.argv[1], 0))' "$1"
}

heard() { grep -c -- "$1" "$LAB_TMP/lan-ssdp.sniff" || true; }

alive_after() { (($(heard 'nts=ssdp:alive') > $1)); }
byebyes_heard() { (($(heard 'nts=ssdp:byebye') >= TARGETS)); }

check_alive_after_ready() {
    local before ready_at first
    before=$(heard 'nts=ssdp:alive')
    lab_daemon_start
    ready_at=$(date +%s.%N)
    lab_poll 2 alive_after "$before" || lab_fail "no ssdp:alive reached the LAN host within 2 s of READY"
    first=$(grep 'nts=ssdp:alive' "$LAB_TMP/lan-ssdp.sniff" | tail -n +$((before + 1)) | head -n 1)
    [[ $first == *" $LAB_GW_LAN_IP:1900 NOTIFY * HTTP/1.1 nt=upnp:rootdevice "*"location=$LOCATION" ]] ||
        lab_fail "the first ssdp:alive is not the root device's from $LAB_GW_LAN_IP:1900 with LOCATION $LOCATION: $first"
    lab_poll 2 alive_after $((before + TARGETS - 1)) ||
        lab_fail "expected $TARGETS ssdp:alive; heard:"$'\n'"$(cat "$LAB_TMP/lan-ssdp.sniff")"
    lab_ok "ssdp:alive x$TARGETS on the LAN from $LAB_GW_LAN_IP:1900 within 2 s of READY (the first $(awk -v a="${first%% *}" -v b="$ready_at" 'BEGIN { printf "%+.2f", a - b }') s from when the lab saw READY)"
}

check_byebye_at_stop() {
    lab_daemon_stop
    lab_poll 2 byebyes_heard ||
        lab_fail "no ssdp:byebye x$TARGETS at stop; heard:"$'\n'"$(cat "$LAB_TMP/lan-ssdp.sniff")"
    grep 'nts=ssdp:byebye' "$LAB_TMP/lan-ssdp.sniff" | grep -qv " $LAB_GW_LAN_IP:1900 " &&
        lab_fail "an ssdp:byebye came from elsewhere than $LAB_GW_LAN_IP:1900 (pupnp's?):"$'\n'"$(grep byebye "$LAB_TMP/lan-ssdp.sniff")"
    lab_ok "ssdp:byebye x$(heard nts=ssdp:byebye) at the clean stop, all from $LAB_GW_LAN_IP:1900 (none of pupnp's)"
}

_gateway_knows_lan_host() { [[ -n $(lab_gw ip neigh show "$LAB_LAN_IP" dev "$LAB_GW_LAN_IF" nud all) ]]; }

check_search_answered_once_per_target() {
    local out count
    # Source trust: the gateway acts for a LAN address only once ARP proved who owns it, and
    # the first datagram of a host it never heard from is refused (lan_source_unresolved)
    # while it asks. A real host has ARPed its default gateway long before; this one has
    # sent nothing yet, so it does now: the echo itself meets the input policy (drop), its ARP
    # exchange is what counts.
    lab_lan ping -c 1 -W 1 "$LAB_GW_LAN_IP" >/dev/null 2>&1 || true
    lab_poll 2 _gateway_knows_lan_host || lab_fail "the gateway has no neighbour entry for $LAB_LAN_IP after its ARP"
    out=$(ssdp_py lan search --mx 2147483647 --wait 6) || lab_fail "M-SEARCH ssdp:all MX 2147483647 got no answer"
    count=$(wc -l <<<"$out")
    ((count == TARGETS)) || lab_fail "expected $TARGETS answers to ssdp:all, got $count:"$'\n'"$out"
    grep -v "^$LAB_GW_LAN_IP:1900 " <<<"$out" && lab_fail "answers from elsewhere than $LAB_GW_LAN_IP:1900:"$'\n'"$out"
    grep -qv "location=$LOCATION\$" <<<"$out" && lab_fail "answers with another LOCATION than $LOCATION:"$'\n'"$out"
    lab_ok "M-SEARCH ssdp:all, MX 2147483647: $count answers, all from $LAB_GW_LAN_IP:1900 (MX clamped: $(ssdp_count mx_clamped))"
    out=$(ssdp_py lan search --to "$LAB_GW_LAN_IP" --st upnp:rootdevice --wait 1) ||
        lab_fail "a unicast M-SEARCH to $LAB_GW_LAN_IP:1900 got no answer"
    lab_ok "unicast M-SEARCH upnp:rootdevice: $out"
}

# expect_unanswered_forgery SOURCE KEY...: a forged M-SEARCH gets no answer that the LAN hears,
# and one of the counters KEY (ssdp.KEY, or the engine's counters.drops.KEY) moves.
expect_unanswered_forgery() {
    local source=$1 before after
    shift
    before=$(forgery_counts "$@")
    lab_sniff_start lan forged 1900
    ssdp_py lan search --source "$source" --wait 0.1 || true
    ssdp_py lan search --source "$source" --to "$LAB_GW_LAN_IP" --wait 2 || true
    grep -q "^udp $LAB_GW_LAN_IP:1900 >" "$LAB_TMP/forged.sniff" &&
        lab_fail "the M-SEARCH forged from $source was answered:"$'\n'"$(cat "$LAB_TMP/forged.sniff")"
    after=$(forgery_counts "$@")
    ((after >= before + 2)) || lab_fail "the M-SEARCHes forged from $source were not counted in $* ($before -> $after)"
    lab_ok "M-SEARCH forged from $source (multicast and unicast): no answer, counted in $* ($before -> $after)"
}

# What pupnp's ssdp:byebye at UpnpFinish is: SSDP to the group from another socket of the gateway
# than gatewayd's marked ones. The backstop (GATEWAYD_CONTROL_OUT) lets it out nowhere: not by the
# default route (WAN), not out of the LAN when sent there.
check_unmarked_ssdp_goes_nowhere() {
    lab_gw "$LAB_PY" -c '
import socket, struct, sys
notify = b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: gwlab-unmarked\r\nNTS: ssdp:byebye\r\n\r\n"
for interface in (None, sys.argv[1]):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if interface:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface))
    try:
        s.sendto(notify, ("239.255.255.250", 1900))
    except OSError:
        pass  # EPERM: the rule dropped it
' "$LAB_GW_LAN_IP"
    sleep 0.5
    grep -q 'nt=gwlab-unmarked' "$LAB_TMP/lan-ssdp.sniff" &&
        lab_fail "an SSDP NOTIFY from an unmarked socket of the gateway reached the LAN host"
    lab_ok "SSDP from any other socket of the gateway (pupnp's byebye) leaves by neither side"
}

forgery_counts() {
    lab_ctl --json status | "$LAB_PY" -c 'import json, sys
status = json.load(sys.stdin)
drops = status.get("counters", {}).get("drops", {})
print(sum(status.get("ssdp", {}).get(k, 0) + drops.get(k, 0) for k in sys.argv[1:]))' "$@"
}

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the SSDP counters are gatewayd's (LAB_NAT=${LAB_NAT})"
lab_upnp_up
lab_heading "SSDP on the LAN only, with a default route via the WAN"
lab_sniff_start wan wan-ssdp 1900 "$LAB_UPNP_HTTP_PORT"
: >"$LAB_TMP/lan-ssdp.sniff"
lab_bg lan ssdp-listen "$LAB_PY" "$SSDP_PY" listen --log "$LAB_TMP/lan-ssdp.sniff"
lab_wait_log "$LAB_TMP/ssdp-listen.log" listening || lab_fail "the LAN host's SSDP listener did not start"
lab_daemon_stop
: >"$LAB_TMP/lan-ssdp.sniff"
check_alive_after_ready
check_search_answered_once_per_target
expect_unanswered_forgery "$LAB_GW_LAN_IP" refused_gateway_address lan_source_is_gateway
expect_unanswered_forgery 192.168.50.255 refused_network_or_broadcast lan_source_is_broadcast
expect_unanswered_forgery 198.51.100.7 refused_outside_lan spoofed_lan_source
check_unmarked_ssdp_goes_nowhere
check_byebye_at_stop
seen=$(lab_sniffed wan-ssdp)
[[ -z $seen ]] || lab_fail "SSDP or IGD HTTP from the gateway reached the WAN host:"$'\n'"$seen"
lab_ok "the WAN host heard no SSDP and no IGD HTTP, start and stop included"
echo "PASS  SSDP is announced and answered on the LAN only, to LAN hosts only"
