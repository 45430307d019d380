#!/usr/bin/env bash
# The WAN watcher's filter (tests/lab/lab_wan_watch.sh, lab_wan_watch_filter) judged on a capture
# of known packets, built with scapy, as if they left the gateway's WAN (no namespaces needed):
#   - flagged: our SSDP (NOTIFY, an M-SEARCH or an answer from port 1900, a NOTIFY from another
#     port, an M-SEARCH not to the group), our IGD's HTTP answers and SYN-ACKs, a GENA event to any port, NAT-PMP/PCP answers
#     and announcements, a LAN address in an IP header or quoted in an ICMP error;
#   - let through (issue 19): the gateway's own control point and clients towards the upstream
#     NAT: an SSDP M-SEARCH to the group from a port other than 1900, PCP and NAT-PMP requests to the
#     upstream's 5351, SOAP requests to the upstream IGD's HTTP port (miniupnpc's User-Agent
#     says "UPnP/1.1"), and translated traffic that happens to use those ports.
# A filter that flags too little lets a leak pass every lab test; one that flags too much
# fails the two-NAT tests for what the gateway must now send.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

command -v tshark >/dev/null || lab_skip "missing tool: tshark"
/usr/bin/python3 -c 'import scapy' 2>/dev/null || lab_skip "python3 cannot import scapy (package python3-scapy)"

work=$(mktemp -d "${TMPDIR:-/tmp}/wan-watch-filter.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# One packet a line: "flag|pass <description>" in the order of the capture's frames.
/usr/bin/python3 - "$work/judged.pcap" "$work/expected" "$LAB_UPNP_HTTP_PORT" <<'PY'
import sys
from scapy.all import Ether, IP, UDP, TCP, ICMP, Raw, wrpcap

pcap, expected_file, http = sys.argv[1], sys.argv[2], int(sys.argv[3])
gw, isp, wan, lan = "100.64.0.2", "100.64.0.1", "203.0.113.2", "192.168.50.10"
ssdp = "239.255.255.250"

def udp(src, dst, sport, dport, payload=b""):
    return Ether() / IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(payload)

def tcp(sport, dport, flags="PA", payload=b"", dst=isp):
    return Ether() / IP(src=gw, dst=dst) / TCP(sport=sport, dport=dport, flags=flags) / Raw(payload)

msearch = (b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 2\r\n"
           b"ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n")
notify = (b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n"
          b"NT: upnp:rootdevice\r\nNTS: ssdp:alive\r\nSERVER: Linux/6 UPnP/1.0 gatewayd/1\r\n\r\n")
search_answer = (b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nST: upnp:rootdevice\r\n"
                 b"SERVER: Linux/6 UPnP/1.0 gatewayd/1\r\n\r\n")
soap = (b"POST /ctl/IPConn HTTP/1.1\r\nHost: 100.64.0.1:%d\r\nUser-Agent: Debian/12, UPnP/1.1, MiniUPnPc/2.2.4\r\n"
        b"SOAPAction: \"urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping\"\r\n\r\n" % http)
http_answer = b"HTTP/1.1 200 OK\r\nSERVER: Linux/6 UPnP/1.0 gatewayd/1\r\nCONTENT-TYPE: text/xml\r\n\r\n"
gena = (b"NOTIFY /callback HTTP/1.1\r\nHOST: 203.0.113.2:8000\r\nNT: upnp:event\r\nNTS: upnp:propchange\r\n"
        b"SID: uuid:1\r\nSEQ: 0\r\n\r\n")
pcp_request = bytes([2, 1, 0, 0]) + bytes(56)
natpmp_request = bytes([0, 1, 0, 0, 0x13, 0x8c, 0x13, 0x8c, 0, 0, 0x0e, 0x10])
natpmp_answer = bytes([0, 128, 0, 0, 0, 0, 0, 1]) + bytes([100, 64, 0, 2])
quoted = IP(src=wan, dst=lan) / UDP(sport=5004, dport=5004)

packets = [
    ("flag", "SSDP NOTIFY from 1900 to the group", udp(gw, ssdp, 1900, 1900, notify)),
    ("flag", "SSDP NOTIFY from another port to the group", udp(gw, ssdp, 40000, 1900, notify)),
    ("flag", "SSDP M-SEARCH from port 1900", udp(gw, ssdp, 1900, 1900, msearch)),
    ("flag", "SSDP search answer from 1900", udp(gw, wan, 1900, 40001, search_answer)),
    ("flag", "an M-SEARCH sent unicast, not to the group", udp(gw, isp, 40011, 1900, msearch)),
    ("flag", "NAT-PMP answer from 5351", udp(gw, wan, 5351, 40002, natpmp_answer)),
    ("flag", "NAT-PMP announcement to 224.0.0.1:5350", udp(gw, "224.0.0.1", 5351, 5350, natpmp_answer)),
    ("flag", "PCP answer from 5351", udp(gw, isp, 5351, 5351, bytes([2, 0x81]) + bytes(58))),
    ("flag", "a LAN source address", udp(lan, wan, 5004, 5004, b"rtp")),
    ("flag", "an ICMP error quoting a LAN address", Ether() / IP(src=gw, dst=wan) / ICMP(type=3, code=3) / quoted),
    ("flag", "our IGD's HTTP answer", tcp(http, 40003, payload=http_answer, dst=wan)),
    ("flag", "our IGD's SYN-ACK", tcp(http, 40004, flags="SA", dst=wan)),
    ("flag", "a GENA event to a callback port", tcp(40005, 8000, payload=gena, dst=wan)),
    ("pass", "the gateway's M-SEARCH for the upstream IGD", udp(gw, ssdp, 40006, 1900, msearch)),
    ("pass", "the gateway's PCP request to the upstream", udp(gw, isp, 40007, 5351, pcp_request)),
    ("pass", "the gateway's NAT-PMP request to the upstream", udp(gw, isp, 40008, 5351, natpmp_request)),
    ("pass", "the gateway's SOAP request to the upstream IGD", tcp(40009, http, payload=soap)),
    ("pass", "a translated TCP segment to the IGD's port number", tcp(40010, http, payload=b"data", dst=wan)),
    ("pass", "translated RTP", udp(gw, wan, 5004, 5004, b"rtp")),
]
wrpcap(pcap, [p for _, _, p in packets])
with open(expected_file, "w") as f:
    for verdict, description, _ in packets:
        f.write(f"{verdict} {description}\n")
PY

flagged=$(tshark -n -r "$work/judged.pcap" -Y "$(lab_wan_watch_filter)" -T fields -e frame.number 2>/dev/null) ||
    lab_fail "tshark could not read the capture with the watcher's filter: $(lab_wan_watch_filter)"
lab_heading "the WAN watcher's filter on $(wc -l <"$work/expected") known packets"
frame=0 wrong=0
while read -r verdict description; do
    frame=$((frame + 1))
    got=pass
    grep -qx "$frame" <<<"$flagged" && got=flag
    if [[ $got == "$verdict" ]]; then
        lab_ok "$verdict: $description"
    else
        printf 'FAIL  expected %s, got %s: %s\n' "$verdict" "$got" "$description" >&2
        wrong=$((wrong + 1))
    fi
done <"$work/expected"
((wrong == 0)) || lab_fail "the watcher's filter misjudged $wrong packet(s): $(lab_wan_watch_filter)"
echo "PASS  the WAN watcher flags the gateway's control plane and lets its upstream clients through"
