#!/usr/bin/env bash
# ctest: sanitize
# gatewayd --replay of a capture taken on the sending host with TX checksum offload
# (issue 16 item 8): its TCP/UDP checksums hold only the pseudo-header sum, folded and not
# complemented (what Linux leaves for the device; tcpdump calls them incorrect). The replay
# recognises them, accepts them, finishes them in the output, and says how many there
# were; a checksum that is neither finished nor partial still fails (a SYN with one is
# dropped as bad_tcp_checksum), unless --trust-checksums is given.
# The capture is crafted with scapy; no lab, no namespace: the replay touches no interface.
set -euo pipefail

gatewayd=${GATEWAYD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/daemon/gatewayd}
py=${LAB_SCAPY_PY:-/usr/bin/python3}  # Debian's python3, where python3-scapy installs
fail() { echo "FAIL: $*" >&2; exit 1; }
[[ -x $gatewayd ]] || fail "build gatewayd first (or set GATEWAYD)"
"$py" -c 'import scapy' 2>/dev/null || fail "python3-scapy is missing (tools/install-deps.sh)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/gateway.yaml" <<'YAML'
lan:
  interface: lan0
  networks: [192.168.50.0/24]
wan:
  interface: wan0
  address: 203.0.113.1
nat:
  port_range: 1024-65535
YAML

# craft OUT: an Ethernet capture of a LAN host's TCP connection and UDP query, every
# packet it sends with a partial checksum, the server's answers finished, and a second
# host's SYN whose checksum is simply wrong.
"$py" - "$tmp/offloaded.pcap" <<'PY'
import struct, sys
from scapy.all import Ether, IP, TCP, UDP, Raw, wrpcap

def fold(s):
    while s >> 16: s = (s & 0xFFFF) + (s >> 16)
    return s

def pseudo_sum(ip):
    raw = bytes(ip)
    ihl = (raw[0] & 15) * 4
    length = len(raw) - ihl
    words = struct.unpack(">4H", raw[12:20])
    return fold(sum(words) + ip.proto + length)

def partial(packet):
    ip = packet[IP]
    ip[1].chksum = pseudo_sum(ip)  # ~csum_tcpudp_magic(..., 0), as tcp_v4_send_check leaves it
    return packet

eth = Ether(src="02:00:00:00:00:0a", dst="02:00:00:00:00:01")
back = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:0a")
host, other, server, wan = "192.168.50.10", "192.168.50.11", "198.51.100.2", "203.0.113.1"
packets = [
    partial(eth / IP(src=host, dst=server) / TCP(sport=40000, dport=80, flags="S", seq=1000)),
    Ether(bytes(back / IP(src=server, dst=wan) / TCP(sport=80, dport=40000, flags="SA", seq=5000, ack=1001))),
    partial(eth / IP(src=host, dst=server) / TCP(sport=40000, dport=80, flags="A", seq=1001, ack=5001)),
    partial(eth / IP(src=host, dst=server) / TCP(sport=40000, dport=80, flags="PA", seq=1001, ack=5001) / Raw(b"GET / HTTP/1.0\r\n\r\n")),
    partial(eth / IP(src=host, dst=server) / TCP(sport=40000, dport=80, flags="FA", seq=1019, ack=5001)),
    partial(eth / IP(src=host, dst=server) / UDP(sport=5353, dport=53) / Raw(b"\x12\x34query")),
]
bad = eth / IP(src=other, dst=server) / TCP(sport=40001, dport=80, flags="S", seq=7)
bad = Ether(bytes(bad))
bad[TCP].chksum = (bad[TCP].chksum + 0x1234) & 0xFFFF  # corrupted: neither finished nor partial
packets.append(bad)
for i, p in enumerate(packets):
    p.time = 1700000000 + i * 0.01
wrpcap(sys.argv[1], packets)
PY

# checksums FILE: "ok" when every TCP/UDP checksum in FILE verifies, else the bad ones.
checksums() {
    "$py" - "$1" <<'PY'
import sys
from scapy.all import rdpcap, IP, TCP, UDP
bad = []
for i, p in enumerate(rdpcap(sys.argv[1])):
    ip = IP(bytes(p[IP]))
    if not isinstance(ip.payload, (TCP, UDP)): continue
    seen = ip.payload.chksum
    del ip.payload.chksum  # recomputed when built
    should = IP(bytes(ip)).payload.chksum
    if seen != should: bad.append(f"packet {i + 1} from {ip.src}:{ip.payload.sport}: {seen:#06x}, should be {should:#06x}")
print("ok" if not bad else "; ".join(bad))
PY
}

replay() { # replay NAME [OPTIONS]: replays the crafted capture into $tmp/NAME.pcap, the summary in $tmp/NAME.log
    local name=$1
    shift
    "$gatewayd" --replay "$tmp/offloaded.pcap" --write "$tmp/$name.pcap" --config "$tmp/gateway.yaml" \
        --verdicts "$tmp/$name.verdicts" "$@" >"$tmp/$name.log" 2>&1 || fail "gatewayd --replay $*: $(cat "$tmp/$name.log")"
    sed 's/^/    /' "$tmp/$name.log"
}
expect() { grep -qF -- "$2" "$tmp/$1.log" || fail "$1: expected \"$2\" in the summary: $(cat "$tmp/$1.log")"; }

echo "== offloaded checksums are recognised and accepted, a wrong one still fails"
replay detect
expect detect "verdicts: forward 6, deliver_locally 0, drop 1, reject 0; written 6"
expect detect "dropped bad_tcp_checksum: 1"
expect detect "checksums: verified; 5 packets carried offloaded (partial) checksums and were accepted as such; 1 carried checksums that fail"
grep -q "^7 .* drop bad_tcp_checksum 192.168.50.11:40001->198.51.100.2:80$" "$tmp/detect.verdicts" ||
    fail "the corrupted SYN should be the one dropped: $(cat "$tmp/detect.verdicts")"
[[ $(checksums "$tmp/detect.pcap") == ok ]] || fail "the output's checksums: $(checksums "$tmp/detect.pcap")"
echo "ok - 5 partial checksums accepted and finished in the output (which verifies), the corrupted SYN dropped"

echo "== --trust-checksums accepts the wrong one too"
replay trust --trust-checksums
expect trust "verdicts: forward 7, deliver_locally 0, drop 0, reject 0; written 7"
expect trust "checksums: trusted (--trust-checksums): 5 packets carried offloaded (partial) checksums and 1 carried checksums that fail; all were accepted, and finished in the output"
[[ $(checksums "$tmp/trust.pcap") == ok ]] || fail "the output's checksums: $(checksums "$tmp/trust.pcap")"
echo "ok - every packet forwarded, the output's checksums all verify"
echo "PASS  gatewayd --replay accepts offloaded checksums and says so"
