#!/usr/bin/env bash
# nfqueue.workers: 2 — the rules spread packets over queues 0 and 1 (--queue-balance 0:1), one
# worker thread each, one flow table for both. The kernel picks the queue by hashing addresses
# and protocol, so a translated flow's two directions usually land on different queues: TCP and
# UDP from two LAN hosts to two WAN addresses must still be translated out and back in, and
# `gatewayctl status` must show that both queues carried packets. A reply left on a queue
# nobody reads would be dropped by the kernel (no --queue-bypass) and fail the exchange.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly HTTP_PORT=8080 ECHO_PORT=7001

two_worker_config() {
    cat <<YAML
lan:
  interface: $LAB_GW_LAN_IF
wan:
  interface: $LAB_GW_WAN_IF
  address: auto
nfqueue:
  queue: 0
  workers: 2
upnp:
  enabled: false
YAML
}

# check_tcp HOST SERVER: an HTTP request from LAN host HOST reaches SERVER from the WAN address
# and its answer comes back.
check_tcp() {
    local peer
    peer=$(lab_in "$1" curl -sS --noproxy '*' -m 5 "http://$2:$HTTP_PORT/") ||
        lab_fail "TCP $1 → $2: curl failed (the request or its answer was lost)"
    [[ ${peer%:*} == "$LAB_GW_WAN_IP" ]] ||
        lab_fail "TCP $1 → $2: the server saw '$peer'; expected $LAB_GW_WAN_IP (the gateway's WAN address)"
    lab_ok "TCP $1 → $2: answered, the server saw $peer"
}

# check_udp HOST SERVER: a UDP datagram from HOST is echoed by SERVER, which saw the WAN address.
check_udp() {
    local answer seen
    answer=$(lab_py "$1" udp-ask "$2:$ECHO_PORT") || lab_fail "UDP $1 → $2: no echo came back: $answer"
    seen=$(awk '{ print $2 }' <<<"$answer")
    [[ ${seen%:*} == "$LAB_GW_WAN_IP" ]] ||
        lab_fail "UDP $1 → $2: the echo server saw '$seen'; expected $LAB_GW_WAN_IP"
    lab_ok "UDP $1 → $2: echoed, the server saw $seen"
}

# queue_field INDEX FIELD: one field of status's queues[INDEX].
queue_field() { lab_json "queues.$1.$2" <<<"$STATUS"; }

lab_up --lan-hosts 2 --wan2 --config <(two_worker_config)
lab_heading "NAT with two queue workers: two LAN hosts, two WAN addresses"

lab_gw iptables-save -t mangle | grep -q -- "-A GATEWAYD_INBOUND -j NFQUEUE --queue-balance 0:1" ||
    lab_fail "the queue rules do not balance over queues 0:1: $(lab_gw iptables-save -t mangle | grep NFQUEUE)"
lab_ok "the queue rules spread packets over queues 0 and 1"

for role in wan wan2; do
    lab_bg "$role" "http-$role" "$LAB_PY" "$LAB_NET_PY" http-peer --port "$HTTP_PORT"
    lab_bg "$role" "echo-$role" "$LAB_PY" "$LAB_NET_PY" udp-echo --port "$ECHO_PORT"
    lab_wait_listen "$role" tcp "$HTTP_PORT"
    lab_wait_listen "$role" udp "$ECHO_PORT"
done

for host in lan lan2; do
    for server in "$LAB_WAN_IP" "$LAB_WAN2_IP"; do
        check_tcp "$host" "$server"
        check_udp "$host" "$server"
    done
done

STATUS=$(lab_ctl --json status) || lab_fail "gatewayctl status failed: $STATUS"
for i in 0 1; do
    [[ $(queue_field "$i" queue) == "$i" ]] || lab_fail "status lists queue $(queue_field "$i" queue) at position $i: $STATUS"
    received=$(queue_field "$i" received)
    ((received > 0)) || lab_fail "queue $i received no packet: both directions of every flow went to the other queue? $STATUS"
    for counter in enobufs queue_full_drops kernel_user_drops; do
        [[ $(queue_field "$i" "$counter") =~ ^[0-9]+$ ]] || lab_fail "status shows no $counter counter for queue $i: $STATUS"
    done
    lab_ok "queue $i: received $received packets in $(queue_field "$i" batches) batches;" \
        "ENOBUFS $(queue_field "$i" enobufs), full-queue drops $(queue_field "$i" queue_full_drops)"
done
# Two LAN hosts × two servers × (TCP handshake, request, answer, close + UDP out and back): far
# more than 16 packets, every one of them decided by one of the two workers.
total=$(($(queue_field 0 received) + $(queue_field 1 received)))
((total >= 16)) || lab_fail "the queues received $total packets in all; 4 TCP and 4 UDP exchanges take more"
echo "PASS  two queue workers translate TCP and UDP both ways for two LAN hosts and two WAN addresses"
