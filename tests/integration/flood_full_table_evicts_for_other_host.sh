#!/usr/bin/env bash
# A table of 64 flows (nat.max_mappings 64; nat.max_flows_per_host is capped at it) that LAN host 1
# fills: 200 UDP sockets, one datagram each, so every flow holds an external port of its own and
# the mapping table is full along with the flow table. Host 1 then gets no more (host_flow_limit,
# exactly 136: a host at its own limit evicts nothing for itself). LAN host 2's new flows still
# get through, each by evicting one of host 1's (flows_evicted, exactly one per flow), and
# nothing is dropped as mapping_table_full or flow_table_full.
# gatewayd only (its limits and counters are under test); needs bench/lab_probe.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
# shellcheck source=SCRIPTDIR/../lab/lab_floods.sh
source "$LAB_DIR/lab_floods.sh"

readonly TABLE=64 SOCKETS=200 ECHO_PORT=7001 OTHER_FLOWS=3
GREEDY_IP=$(lab_lan_ip 1)
OTHER_IP=$(lab_lan_ip 2)
readonly GREEDY_IP OTHER_IP

flood_config() {
    cat <<EOF
lan: {interface: $LAB_GW_LAN_IF, networks: [$LAB_LAN_NET]}
wan: {interface: $LAB_GW_WAN_IF, address: auto}
nat: {port_range: 1024-65535, max_mappings: $TABLE}
upnp: {enabled: false, lease_file: $LAB_TMP/gatewayd.leases}
EOF
}

refused_at_least() { (($(flood_counter host_flow_limit) >= $1)); }

flood_require
flood_lab_up 2 flood_config
lab_heading "LAN host $GREEDY_IP fills a table of $TABLE flows from $SOCKETS source ports; LAN host $OTHER_IP comes next"
lab_bg wan udp-echo "$LAB_PY" "$LAB_NET_PY" udp-echo --port "$ECHO_PORT"
lab_wait_listen wan udp "$ECHO_PORT"

report=$(flood_probe lan udp-flows --to "$LAB_WAN_IP" --first-port "$ECHO_PORT" --flows "$SOCKETS" --sockets "$SOCKETS") ||
    lab_fail "lab_probe udp-flows failed: $report"
sent=$(flood_json_field "$report" sent)
((sent == SOCKETS)) || lab_fail "lab_probe sent $sent of $SOCKETS datagrams: $report"
lab_poll 5 refused_at_least $((SOCKETS - TABLE)) || true # the last datagrams may still be queued
held=$(flood_count_flows origin=lan "internal=$GREEDY_IP:*")
ports=$(flood_count_external_ports "$GREEDY_IP")
((held == TABLE && ports == TABLE)) ||
    lab_fail "LAN host 1 holds $held flows on $ports external ports, expected the whole table: $TABLE on $TABLE"
refused=$(flood_counter host_flow_limit)
((refused == SOCKETS - TABLE)) || lab_fail "host_flow_limit is $refused, expected exactly $((SOCKETS - TABLE))"
lab_ok "LAN host 1 holds the whole table: $held flows on $ports external ports; $refused more refused (host_flow_limit)"

for ((k = 1; k <= OTHER_FLOWS; k++)); do
    lab_py lan2 udp-ask --timeout 2 --source-port $((43000 + k)) "$LAB_WAN_IP:$ECHO_PORT" >/dev/null ||
        lab_fail "LAN host 2's flow $k (from port $((43000 + k))) got no answer from a full table"
done
lab_ok "LAN host 2 opened $OTHER_FLOWS new flows in the full table, each answered"

evicted=$(flood_counter flows_evicted)
((evicted == OTHER_FLOWS)) || lab_fail "flows_evicted is $evicted, expected exactly $OTHER_FLOWS (one per flow of LAN host 2)"
held=$(flood_count_flows origin=lan "internal=$GREEDY_IP:*")
other_held=$(flood_count_flows origin=lan "internal=$OTHER_IP:*")
((held == TABLE - OTHER_FLOWS && other_held == OTHER_FLOWS)) ||
    lab_fail "after eviction LAN host 1 holds $held flows and LAN host 2 $other_held, expected $((TABLE - OTHER_FLOWS)) and $OTHER_FLOWS"
for reason in mapping_table_full flow_table_full; do
    count=$(flood_counter "$reason")
    ((count == 0)) || lab_fail "$count packets were dropped as $reason: the table refused instead of evicting"
done
lab_ok "flows_evicted $evicted, all LAN host 1's: it holds $held, LAN host 2 $other_held; nothing dropped as the table being full"
flood_expect_alive "after the table filled"
echo "PASS  a table one LAN host filled makes room for another host's flows by evicting the greedy host's, counted"
