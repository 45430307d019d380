#!/usr/bin/env bash
# ctest: sanitize
# Fragments in any order (RFC 4787 REQ-14) and the gateway's own IP identifications (RFC 7857
# §10), issue 18.3. UDP datagrams in three fragments sent last-first and shuffled get through
# whole: outbound as the first packet of a new flow, inbound into a mapping the LAN host opened
# and through a forward as the first packet of a new flow. lan1 and lan2 each send a 2-fragment
# datagram with ID 0x4242, fragments interleaved: both arrive, and they left the gateway with two
# different IDs. The kernel reassembles ahead of the queue (chain GATEWAYD_DEFRAG) and sends the
# translated datagram in fragments no larger than those that came. A datagram that never
# completes times out and is counted (gatewayctl status: ip_reassembly); a flood of incomplete
# datagrams is held in the kernel within net.ipv4.ipfrag_high_thresh, counted as failed, and
# gatewayd's memory does not follow it (its RSS before and after is printed).
# Needs python3-scapy (/usr/bin/python3); the driver is tests/lab/labfragments.py.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

FRAG_PY=${LAB_HOSTILE_PY:-/usr/bin/python3}
readonly FORWARD_PORT=7300
[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "this test reads gatewayd's counters; LAB_NAT=${LAB_NAT:-}"
"$FRAG_PY" -c 'import scapy' 2>/dev/null || lab_skip "python3-scapy is not installed for $FRAG_PY"

config() {
    cat <<EOF
lan:
  interface: $LAB_GW_LAN_IF
wan:
  interface: $LAB_GW_WAN_IF
  address: auto
nat:
  port_range: 1024-65535
firewall:
  forwards:
    - {name: frag, protocol: udp, external_port: $FORWARD_PORT, internal: $(lab_lan_ip 1)}
EOF
}
lab_up --nat gatewayd --lan-hosts 2 --config <(config)
# The lab's gateway only (its own namespace): a datagram that never completes is given up
# after 2 s instead of 30, so the test can see it counted.
lab_gw sysctl -qw net.ipv4.ipfrag_time=2

mac_of() { ip -n "$LAB_NS_GW" -br link show dev "$1" | awk '{print $3}'; }
reassembly() { lab_ctl --json status | "$FRAG_PY" -c "import json,sys; print(json.load(sys.stdin)['ip_reassembly']['$1'])"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$LAB_DAEMON_PID/status"; }
frag() {
    "$FRAG_PY" "$LAB_DIR/labfragments.py" "$@" --ns "lan=$(_lab_ns_of lan)" --ns "lan2=$(_lab_ns_of lan2)" \
        --ns "wan=$(_lab_ns_of wan)" --gw-wan-mac "$(mac_of "$LAB_GW_WAN_IF")" --wan-ip "$LAB_WAN_IP" \
        --gw-wan-ip "$LAB_GW_WAN_IP"
}

lab_heading "the kernel reassembles ahead of the queue"
lab_gw iptables-save -t mangle | grep -q -- '-A GATEWAYD_DEFRAG -m socket --transparent' ||
    lab_fail "no GATEWAYD_DEFRAG chain among the queue rules"
fragments_before=$(reassembly fragments)
lab_ok "bounds in the gateway's namespace: ipfrag_high_thresh $(reassembly memory_limit_bytes) bytes, ipfrag_time $(reassembly timeout_seconds) s"

lab_heading "datagrams in three fragments, in any order"
frag run --gw-lan-mac "$(mac_of "$LAB_GW_LAN_IF")" --lan-ip "$(lab_lan_ip 1)" --lan2-ip "$(lab_lan_ip 2)" \
    --forward-port "$FORWARD_PORT" | sed 's/^/  /' || lab_fail "a fragmented datagram did not get through (above)"
fragments_after=$(reassembly fragments)
((fragments_after - fragments_before >= 28)) ||
    lab_fail "ip_reassembly.fragments grew by $((fragments_after - fragments_before)), expected at least 28"
lab_ok "gatewayctl status counts them: ip_reassembly.fragments +$((fragments_after - fragments_before)), reassembled $(reassembly reassembled)"

lab_heading "a datagram that never completes is given up and counted"
timed_out_before=$(reassembly timed_out)
frag incomplete --port "$FORWARD_PORT" >/dev/null
timed_out_grew() { (($(reassembly timed_out) > timed_out_before)); }
lab_poll 8 timed_out_grew || lab_fail "ip_reassembly.timed_out stayed at $timed_out_before"
lab_ok "ip_reassembly.timed_out $timed_out_before -> $(reassembly timed_out)"

lab_heading "a flood of incomplete datagrams stays in the kernel's bounds"
rss_before=$(rss_kib) failed_before=$(reassembly failed)
frag incomplete --port "$FORWARD_PORT" --count 20000 --first-id 0x7000 | sed 's/^/  /'
held=$(reassembly memory_bytes) limit=$(reassembly memory_limit_bytes)
rss_after=$(rss_kib) failed_after=$(reassembly failed)
# The kernel checks the bound before it takes a fragment, so the last one may cross it (by
# one skb's truesize, a few KiB; its per-CPU counter batches 128 KiB).
((held <= limit + 131072)) || lab_fail "the kernel holds $held bytes of fragments, beyond ipfrag_high_thresh $limit"
((failed_after > failed_before)) || lab_fail "fragments beyond the bound were not counted as failed"
((rss_after - rss_before < 16384)) || lab_fail "gatewayd's RSS grew from $rss_before to $rss_after KiB under the flood"
lab_ok "kernel holds $held of $limit bytes; ip_reassembly.failed +$((failed_after - failed_before)); gatewayd RSS $rss_before -> $rss_after KiB"
lab_poll 8 timed_out_grew || true
lab_ctl status | grep '^reassembly' | sed 's/^/  /' || lab_fail "gatewayctl status shows no reassembly line"
echo "PASS  fragments in any order get through whole, two LAN hosts' IDs cannot collide, reassembly is bounded and counted"
