#!/usr/bin/env bash
# ctest: sanitize
# `gatewayd --replay` translates as the live daemon does: the LAN side of the gateway (lan0,
# before translation, its UDP checksums offloaded: partial) is captured while the LAN host sends UDP and pings through the live daemon,
# that capture is replayed offline with the same config, and what the replay writes must equal,
# packet by packet, what the live gateway sent on wan0 (after translation). Byte for byte on the
# IP layer, except that the live packets went through the kernel's forwarding, which lowers the
# TTL by one (and so changes the header checksum): that is checked to be the only difference.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly ECHO_PORT_A=7001 ECHO_PORT_B=7002 PINGS=3
readonly OUTBOUND=$((2 + PINGS)) # two UDP datagrams (udp-ask to two servers) and the echo requests

# Offline the replay cannot ask interfaces: lan.networks and a literal wan.address.
replay_config() {
    cat <<EOF
lan:
  interface: $LAB_GW_LAN_IF
  networks: [$LAB_LAN_NET]
wan:
  interface: $LAB_GW_WAN_IF
  address: $LAB_GW_WAN_IP
nat:
  port_range: 1024-65535
EOF
}

# capture_start NAME IFACE: tshark on the gateway's IFACE into $LAB_TMP/NAME.pcap (libpcap format).
capture_start() {
    # Only the exchange with the WAN host: hosts also send IGMP joins and the like now and then.
    lab_bg gw "$1" tshark -n -i "$2" -f "ip host $LAB_WAN_IP" -F pcap -w "$LAB_TMP/$1.pcap"
    CAPTURE_PIDS+=("$LAB_BG_PID")
    lab_wait_log "$LAB_TMP/$1.log" "Capturing on" 10 || lab_fail "tshark did not start on $2: $(cat "$LAB_TMP/$1.log")"
}

# count_in FILE FILTER: packets in FILE that match the display filter.
count_in() { tshark -n -r "$1" -Y "$2" -T fields -e frame.number 2>/dev/null | wc -l; }
holds() { (($(count_in "$1" "$2") >= $3)); }

# ip_packets FILE SOURCE: one line per IPv4 packet from SOURCE: "ttl hex" where hex is the
# whole IP packet with TTL and header checksum zeroed (Ethernet header and padding removed).
ip_packets() {
    "$LAB_PY" - "$1" "$2" <<'PY'
import ipaddress, struct, sys
path, source = sys.argv[1], ipaddress.IPv4Address(sys.argv[2]).packed
data = open(path, "rb").read()
magic = struct.unpack("<I", data[:4])[0]
endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
link = struct.unpack(endian + "I", data[20:24])[0]
l2 = {1: 14, 101: 0, 12: 0, 228: 0, 113: 16}[link]
offset = 24
while offset + 16 <= len(data):
    _, _, caplen, _ = struct.unpack(endian + "IIII", data[offset:offset + 16])
    frame = data[offset + 16:offset + 16 + caplen]
    offset += 16 + caplen
    if link == 1 and frame[12:14] != b"\x08\x00":
        continue
    ip = bytearray(frame[l2:])
    if len(ip) < 20 or ip[0] >> 4 != 4 or ip[12:16] != source:
        continue
    ip = ip[:struct.unpack(">H", ip[2:4])[0]]
    ttl = ip[8]
    ip[8] = 0
    ip[10:12] = b"\0\0"
    print(ttl, ip.hex())
PY
}

CAPTURE_PIDS=()
lab_up --nat gatewayd --config <(replay_config)
lab_heading "gatewayd --replay of the LAN capture matches the live daemon's WAN wire"
lab_bg wan echo-a "$LAB_PY" "$LAB_NET_PY" udp-echo --port "$ECHO_PORT_A"
lab_bg wan echo-b "$LAB_PY" "$LAB_NET_PY" udp-echo --port "$ECHO_PORT_B"
lab_wait_listen wan udp "$ECHO_PORT_A"
lab_wait_listen wan udp "$ECHO_PORT_B"

capture_start lan0 "$LAB_GW_LAN_IF"
capture_start wan0 "$LAB_GW_WAN_IF"
answers=$(lab_py lan udp-ask "$LAB_WAN_IP:$ECHO_PORT_A" "$LAB_WAN_IP:$ECHO_PORT_B") ||
    lab_fail "UDP LAN→WAN through the live daemon: $answers"
# An identifier inside nat.port_range, so kept: a replacement would be drawn with the live
# daemon's secret key (nat/port_selection.hpp), which the replay does not know.
output=$(lab_py lan ping --count "$PINGS" --ident 4242 "$LAB_WAN_IP") || lab_fail "ping LAN→WAN through the live daemon: $output"
lab_ok "live: UDP echo answered ($(tr '\n' ' ' <<<"$answers")), ping: $(tail -n 1 <<<"$output")"

# dumpcap writes in batches and SIGTERM loses the last one: wait until every packet is in.
lab_poll 5 holds "$LAB_TMP/lan0.pcap" "ip.src == $LAB_LAN_IP && ip.dst == $LAB_WAN_IP" "$OUTBOUND" || true
lab_poll 5 holds "$LAB_TMP/wan0.pcap" "ip.src == $LAB_GW_WAN_IP" "$OUTBOUND" || true
for pid in "${CAPTURE_PIDS[@]}"; do lab_stop_pid "$pid"; done

# The replay touches no interface; it runs in the gateway's namespace all the same.
replay_log=$LAB_TMP/replay.log
lab_gw "$GATEWAYD" --replay "$LAB_TMP/lan0.pcap" --write "$LAB_TMP/replayed.pcap" --config "$LAB_TMP/gatewayd.yaml" \
    --verdicts "$LAB_TMP/verdicts.txt" >"$replay_log" 2>&1 || lab_fail "gatewayd --replay failed: $(cat "$replay_log")"
sed 's/^/    /' "$replay_log"
grep -q "verdicts: forward $OUTBOUND, deliver_locally 0, drop 0, reject 0" "$replay_log" ||
    lab_fail "the replay should forward the $OUTBOUND outbound packets and drop none: $(cat "$replay_log")"
lab_ok "replay: $OUTBOUND outbound packets forwarded, none dropped"
# The LAN host's veth leaves its UDP checksums to the receiver (TX checksum offload: only
# the pseudo-header sum is filled in), and lan0's tap sees them so: the replay must know
# them for what they are, and finish them as the live daemon does (compared below).
grep -q "checksums: verified; 2 packets carried offloaded (partial) checksums and were accepted as such$" "$replay_log" ||
    lab_fail "the replay should find the 2 UDP datagrams' offloaded checksums: $(cat "$replay_log")"
lab_ok "replay: the 2 UDP datagrams' offloaded (partial) checksums recognised"

mapfile -t live < <(ip_packets "$LAB_TMP/wan0.pcap" "$LAB_GW_WAN_IP")
mapfile -t replayed < <(ip_packets "$LAB_TMP/replayed.pcap" "$LAB_GW_WAN_IP")
((${#live[@]} == OUTBOUND)) || lab_fail "the live WAN capture holds ${#live[@]} packets from $LAB_GW_WAN_IP, expected $OUTBOUND"
((${#replayed[@]} == OUTBOUND)) || lab_fail "the replay wrote ${#replayed[@]} packets from $LAB_GW_WAN_IP, expected $OUTBOUND"
for i in "${!live[@]}"; do
    read -r live_ttl live_ip <<<"${live[$i]}"
    read -r replay_ttl replay_ip <<<"${replayed[$i]}"
    [[ $live_ip == "$replay_ip" ]] ||
        lab_fail "packet $((i + 1)) differs (TTL and header checksum zeroed)"$'\n'"  live   $live_ip"$'\n'"  replay $replay_ip"
    ((live_ttl == replay_ttl - 1)) ||
        lab_fail "packet $((i + 1)): live TTL $live_ttl, replayed $replay_ttl; expected the kernel's forwarding to lower it by one"
done
lab_ok "all $OUTBOUND translated packets equal the live wire byte for byte (TTL lowered by one on the live side)"
echo "PASS  gatewayd --replay of the LAN capture matches the live daemon's translation"
