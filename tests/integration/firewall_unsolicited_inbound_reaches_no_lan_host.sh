#!/usr/bin/env bash
# Firewall, default policies and nothing opened: a TCP SYN or a UDP datagram that either WAN host
# starts reaches no LAN host (a sniffer on each sees nothing from the WAN), gatewayd logs each as
# dropped by the policy, and replies to what the LAN hosts start still come back.
# Daemon-only (the config is gatewayd's): skips under LAB_NAT=kernel (fails under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

# Below the ephemeral range (32768-60999), so no LAN client's own port is ever taken for a probe.
readonly PROBE_PORT=30000 ECHO_PORT=7001 HTTP_PORT=8080 LAN_HOSTS=3

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the firewall is gatewayd's; LAB_NAT=${LAB_NAT:-}"

firewall_config() {
    cat <<EOF
lan: {interface: $LAB_GW_LAN_IF, networks: [$LAB_LAN_NET]}
wan: {interface: $LAB_GW_WAN_IF, address: auto}
firewall:
  filtering: address-and-port-dependent
  policy: {inbound: drop, outbound: accept, input: drop}
  log_lines_per_second: 50
EOF
}

# A sniffer that sees nothing proves nothing unless it is shown to see: the gateway itself, on the
# LAN, sends each host one datagram to the probe port.
start_lan_sniffers() {
    local k
    for ((k = 1; k <= LAN_HOSTS; k++)); do
        lab_sniff_start "lan$k" "sniff-lan$k" "$PROBE_PORT"
        lab_py gw udp-send "$(lab_lan_ip "$k")" "$PROBE_PORT" control
        lab_wait_log "$LAB_TMP/sniff-lan$k.sniff" "udp $LAB_GW_LAN_IP:" ||
            lab_fail "control: the sniffer on LAN host $k did not see the gateway's datagram"
    done
    lab_ok "control: sniffers on the $LAN_HOSTS LAN hosts see what arrives on port $PROBE_PORT"
}

# probe_from ROLE SOURCE-IP UDP-SOURCE-PORT TCP-SOURCE-PORT: one UDP datagram and one TCP connection
# attempt to the gateway's WAN address, each logged by gatewayd as dropped by the inbound policy.
probe_from() {
    local role=$1 source=$2 udp_port=$3 tcp_port=$4 target="$LAB_GW_WAN_IP:$PROBE_PORT"
    lab_py "$role" udp-send --source-port "$udp_port" "$LAB_GW_WAN_IP" "$PROBE_PORT" "unsolicited-udp"
    if lab_py "$role" tcp-send --timeout 1 --source-port "$tcp_port" "$LAB_GW_WAN_IP" "$PROBE_PORT" "unsolicited-tcp" 2>/dev/null; then
        lab_fail "a TCP connection from $source to $target was accepted"
    fi
    lab_expect_decision drop policy udp "$source:$udp_port" "$target" "UDP from $source"
    lab_ok "UDP $source:$udp_port → $target: $LAB_DECISION"
    lab_expect_decision drop policy tcp "$source:$tcp_port" "$target" "TCP SYN from $source"
    lab_ok "TCP $source:$tcp_port → $target: $LAB_DECISION"
}

# Each probe's drop is already logged, so anything forwarded would have reached its host by now.
check_no_lan_host_saw_the_wan() {
    local k seen
    for ((k = 1; k <= LAN_HOSTS; k++)); do
        seen=$(lab_sniffed "sniff-lan$k" | grep -v "^udp $LAB_GW_LAN_IP:" || true)
        [[ -z $seen ]] || lab_fail "unsolicited WAN traffic reached LAN host $k ($(lab_lan_ip "$k")):"$'\n'"$seen"
    done
    lab_ok "none of the $LAN_HOSTS LAN hosts saw a packet from the WAN on port $PROBE_PORT"
}

# From every LAN host, one UDP socket asks both WAN hosts, and an HTTP request goes to each.
check_replies_come_back() {
    local k ip answers wan peer
    for ((k = 1; k <= LAN_HOSTS; k++)); do
        ip=$(lab_lan_ip "$k")
        answers=$(lab_py "lan$k" udp-ask --timeout 1 "$LAB_WAN_IP:$ECHO_PORT" "$LAB_WAN2_IP:$ECHO_PORT") ||
            lab_fail "UDP replies to LAN host $ip did not all come back: $answers"
        for wan in "$LAB_WAN_IP" "$LAB_WAN2_IP"; do
            peer=$(lab_in "lan$k" curl -sS --noproxy '*' -m 5 "http://$wan:$HTTP_PORT/") ||
                lab_fail "HTTP from LAN host $ip to $wan:$HTTP_PORT got no answer"
            [[ ${peer%:*} == "$LAB_GW_WAN_IP" ]] || lab_fail "the HTTP server on $wan saw $ip as '$peer'"
        done
    done
    lab_ok "replies to UDP and TCP started by each LAN host come back from both WAN hosts"
}

lab_up --nat gatewayd --wan2 --lan-hosts "$LAN_HOSTS" --config <(firewall_config)
lab_heading "unsolicited inbound TCP and UDP reach no LAN host; replies to the LAN do"
for role in wan wan2; do
    lab_bg "$role" "echo-$role" "$LAB_PY" "$LAB_NET_PY" udp-echo --port "$ECHO_PORT"
    lab_bg "$role" "http-$role" "$LAB_PY" "$LAB_NET_PY" http-peer --port "$HTTP_PORT"
    lab_wait_listen "$role" udp "$ECHO_PORT"
    lab_wait_listen "$role" tcp "$HTTP_PORT"
done
start_lan_sniffers

probe_from wan "$LAB_WAN_IP" 31001 31002
probe_from wan2 "$LAB_WAN2_IP" 31003 31004
check_no_lan_host_saw_the_wan
check_replies_come_back
echo "PASS  unsolicited inbound traffic reaches no LAN host; replies to the LAN pass"
