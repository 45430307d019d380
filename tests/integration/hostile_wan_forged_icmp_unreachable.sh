#!/usr/bin/env bash
# ctest: sanitize
# Forged ICMP from the WAN (issue 14): a LAN host's connected UDP socket talks to the WAN host; a
# second WAN host, which is not the flow's remote end, sends a port unreachable quoting the flow's
# datagram exactly. It must not reach the LAN host's socket (counted as
# icmp_unreachable_not_from_remote); the same error from the remote end itself still does
# (ECONNREFUSED), which shows the probe would see a forged one that got through.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly REMOTE_PORT=7500
LAB_FORGE_PY=$LAB_DIR/labforge.py

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the check and its counter are gatewayd's"
/usr/bin/python3 -c 'import scapy' 2>/dev/null || lab_skip "scapy (python3-scapy) is not installed for /usr/bin/python3"

drops() {
    lab_ctl --json status | /usr/bin/python3 -c 'import json, sys
print(json.load(sys.stdin).get("counters", {}).get("drops", {}).get(sys.argv[1], 0))' "$1"
}

# hold NAME: a connected UDP socket on the LAN host to the WAN host; sets EXTERNAL (its port on the
# WAN address, as the WAN host's listener saw it).
hold() {
    lab_bg lan "hold.$1" /usr/bin/python3 "$LAB_FORGE_PY" udp-hold --server "$LAB_WAN_IP" --port "$REMOTE_PORT" \
        --go "$LAB_TMP/go.$1" --log "$LAB_TMP/$1.log"
    lab_wait_log "$LAB_TMP/$1.log" sent || lab_fail "the LAN host's UDP socket did not send"
    lab_poll 3 grep -sq "hold" "$LAB_TMP/arrivals.wan.$REMOTE_PORT" || lab_fail "the WAN host got no datagram"
    EXTERNAL=$(grep "hold" "$LAB_TMP/arrivals.wan.$REMOTE_PORT" | tail -1 | sed -E 's/^udp [0-9.]+:([0-9]+) .*/\1/')
    : >"$LAB_TMP/arrivals.wan.$REMOTE_PORT"
}

# unreachable_from ROLE: ROLE sends the port unreachable about the held flow.
unreachable_from() {
    lab_in "$1" /usr/bin/python3 "$LAB_FORGE_PY" icmp-unreachable --quoted-src "$LAB_GW_WAN_IP" \
        --quoted-sport "$EXTERNAL" --quoted-dst "$LAB_WAN_IP" --quoted-dport "$REMOTE_PORT" >/dev/null
}

# outcome NAME: what the LAN host's socket saw once told to listen (refused / quiet).
outcome() {
    touch "$LAB_TMP/go.$1"
    lab_poll 5 grep -sqE "^(refused|quiet|answered)$" "$LAB_TMP/$1.log" || lab_fail "the LAN socket $1 never finished"
    tail -1 "$LAB_TMP/$1.log"
}

lab_up --nat gatewayd --wan2
lab_heading "a port unreachable about a LAN host's UDP flow, from a WAN host that is not its remote end"
lab_upnp_listen wan "$REMOTE_PORT"

before=$(drops icmp_unreachable_not_from_remote)
hold forged
unreachable_from wan2
sleep 0.5
got=$(outcome forged)
[[ $got == quiet ]] || lab_fail "a port unreachable from $LAB_WAN2_IP reached the LAN host's socket ($got)"
now=$(drops icmp_unreachable_not_from_remote)
((now > before)) || lab_fail "drops.icmp_unreachable_not_from_remote stayed at $now"
lab_ok "from $LAB_WAN2_IP: the LAN host's socket stays open; dropped as icmp_unreachable_not_from_remote ($before -> $now)"

hold genuine
unreachable_from wan
sleep 0.5
got=$(outcome genuine)
[[ $got == refused ]] || lab_fail "the remote end's own port unreachable did not reach the LAN host's socket ($got)"
lab_ok "from the remote end $LAB_WAN_IP: the LAN host's socket learns ECONNREFUSED, as it should"
echo "PASS  a forged port unreachable from another WAN host does not close a LAN host's UDP socket"
