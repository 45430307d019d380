#!/usr/bin/python3
# Writes fuzz/corpus/packet_engine: record sequences (see packet_engine_fuzzer.cpp for
# the format) of real packets built with scapy on the harness's addressing plan, each
# a small conversation: a flow opened from the LAN, then its replies, ICMP errors
# about it, fragments, forwards, the DMZ host, hairpinning and the local hooks.
# Run with Debian's python3 (scapy): /usr/bin/python3 fuzz/seeds/make_packet_engine_corpus.py
import os
import struct
import sys

from scapy.all import ICMP, IP, TCP, UDP, Raw, fragment, raw

OUTBOUND, INBOUND, INPUT, HAIRPIN, LOCAL, EXPIRE, MAPPING = 0, 1, 2, 3, 4, 5, 6
WAN, HOST_A, HOST_B, SERVER, ROUTER = "203.0.113.1", "192.168.1.10", "192.168.1.11", "198.51.100.7", "198.51.100.1"
GW_LAN, DMZ, RDP, GAME = "192.168.1.1", "192.168.1.30", "192.168.1.20", "192.168.1.21"
FIRST_EXTERNAL = 40000  # the port the engine gives the first mapping (port preservation is outside its range)


def record(hook, packet=b"", advance=0, unit=2):
    data = raw(packet) if not isinstance(packet, bytes) else packet
    return bytes([hook | (unit << 5), advance]) + struct.pack(">H", len(data)) + data


def tcp_conversation():
    syn = IP(src=HOST_A, dst=SERVER) / TCP(sport=5000, dport=80, flags="S", seq=1000)
    synack = IP(src=SERVER, dst=WAN) / TCP(sport=80, dport=FIRST_EXTERNAL, flags="SA", seq=9000, ack=1001)
    ack = IP(src=HOST_A, dst=SERVER) / TCP(sport=5000, dport=80, flags="A", seq=1001, ack=9001)
    data = IP(src=HOST_A, dst=SERVER) / TCP(sport=5000, dport=80, flags="PA", seq=1001, ack=9001) / Raw(b"GET / HTTP/1.0\r\n\r\n")
    reply = IP(src=SERVER, dst=WAN) / TCP(sport=80, dport=FIRST_EXTERNAL, flags="PA", seq=9001, ack=1019) / Raw(b"HTTP/1.0 200 OK\r\n\r\n")
    fin = IP(src=HOST_A, dst=SERVER) / TCP(sport=5000, dport=80, flags="FA", seq=1019, ack=9020)
    rst = IP(src=SERVER, dst=WAN) / TCP(sport=80, dport=FIRST_EXTERNAL, flags="R", seq=9020)
    return b"".join([record(OUTBOUND, syn), record(INBOUND, synack, 1), record(OUTBOUND, ack), record(OUTBOUND, data),
                     record(INBOUND, reply), record(OUTBOUND, fin, 5), record(INBOUND, rst), record(EXPIRE, advance=250, unit=4)])


def udp_and_icmp_errors():
    out = IP(src=HOST_A, dst=SERVER) / UDP(sport=5060, dport=5060) / Raw(b"INVITE sip:x SIP/2.0\r\n")
    back = IP(src=SERVER, dst=WAN) / UDP(sport=5060, dport=FIRST_EXTERNAL) / Raw(b"SIP/2.0 100 Trying\r\n")
    translated = IP(src=WAN, dst=SERVER) / UDP(sport=FIRST_EXTERNAL, dport=5060) / Raw(b"INVITE sip:x SIP/2.0\r\n")
    unreachable = IP(src=SERVER, dst=WAN) / ICMP(type=3, code=3) / raw(translated)
    too_big = IP(src=ROUTER, dst=WAN) / ICMP(type=3, code=4, nexthopmtu=1400) / raw(translated)[:28]
    ttl = IP(src=ROUTER, dst=WAN) / ICMP(type=11, code=0) / raw(translated)[:28]
    lan_error = IP(src=HOST_A, dst=SERVER) / ICMP(type=3, code=3) / raw(IP(src=SERVER, dst=HOST_A) / UDP(sport=5060, dport=5060))
    return b"".join([record(OUTBOUND, out), record(INBOUND, back), record(INBOUND, unreachable), record(INBOUND, too_big),
                     record(INBOUND, ttl), record(OUTBOUND, lan_error), record(INBOUND, back, 200, 4)])


def pings():
    echo = IP(src=HOST_A, dst=SERVER) / ICMP(type=8, id=0x1234, seq=1) / Raw(b"x" * 16)
    reply = IP(src=SERVER, dst=WAN) / ICMP(type=0, id=FIRST_EXTERNAL, seq=1) / Raw(b"x" * 16)
    to_gateway = IP(src=HOST_A, dst=GW_LAN) / ICMP(type=8, id=7, seq=1)
    from_wan = IP(src=SERVER, dst=WAN) / ICMP(type=8, id=9, seq=1)
    return b"".join([record(OUTBOUND, echo), record(INBOUND, reply), record(INPUT, to_gateway), record(INBOUND, from_wan)])


def fragments():
    big = IP(src=HOST_A, dst=SERVER, id=777) / UDP(sport=4000, dport=4001) / Raw(b"F" * 1200)
    back = IP(src=SERVER, dst=WAN, id=778) / UDP(sport=4001, dport=FIRST_EXTERNAL) / Raw(b"R" * 1200)
    parts_out = fragment(big, fragsize=400)
    parts_in = fragment(back, fragsize=400)
    records = [record(OUTBOUND, p) for p in parts_out] + [record(INBOUND, p) for p in reversed(parts_in)]
    return b"".join(records)


def forwards_dmz_hairpin():
    rdp = IP(src=SERVER, dst=WAN) / TCP(sport=50000, dport=3389, flags="S", seq=1)
    rdp_answer = IP(src=RDP, dst=SERVER) / TCP(sport=3389, dport=50000, flags="SA", seq=7, ack=2)
    game = IP(src=SERVER, dst=WAN) / UDP(sport=27005, dport=27016) / Raw(b"ping")
    ssh_stranger = IP(src="192.0.2.99", dst=WAN) / TCP(sport=1234, dport=2222, flags="S")
    dmz = IP(src=SERVER, dst=WAN) / UDP(sport=4000, dport=5060) / Raw(b"dmz")
    dmz_answer = IP(src=DMZ, dst=SERVER) / UDP(sport=5060, dport=4000) / Raw(b"ok")
    hairpin = IP(src=HOST_B, dst=WAN) / TCP(sport=6000, dport=3389, flags="S", seq=5)
    hairpin_back = IP(src=RDP, dst=WAN) / TCP(sport=3389, dport=6000, flags="SA", seq=9, ack=6)
    return b"".join([record(INBOUND, rdp), record(OUTBOUND, rdp_answer), record(INBOUND, game), record(INBOUND, ssh_stranger),
                     record(INBOUND, dmz), record(OUTBOUND, dmz_answer), record(HAIRPIN, hairpin), record(HAIRPIN, hairpin_back)])


def upnp_and_local():
    mapping = bytes([0, 0x1f, 0x90, 40])  # open tcp 8080 -> 192.168.1.40:8080
    to_mapping = IP(src=SERVER, dst=WAN) / TCP(sport=999, dport=8080, flags="S")
    close = bytes([2, 0x1f, 0x90, 40])
    soap = (IP(src=HOST_A, dst=GW_LAN) / TCP(sport=7000, dport=5000, flags="PA", seq=1, ack=1) /
            Raw(b"POST /ctl/IPConn HTTP/1.1\r\nHost: 192.168.1.1:5000\r\nSOAPAction: \"urn:schemas-upnp-org:service:"
                b"WANIPConnection:1#AddPortMapping\"\r\nContent-Length: 0\r\n\r\n"))
    ssdp = IP(src=HOST_A, dst="239.255.255.250") / UDP(sport=1900, dport=1900) / Raw(b"M-SEARCH * HTTP/1.1\r\n\r\n")
    dns = IP(src=HOST_A, dst=GW_LAN) / UDP(sport=3333, dport=53) / Raw(b"\x12\x34\x01\x00")
    local = IP(src=WAN, dst=SERVER) / UDP(sport=123, dport=123) / Raw(b"\x1b" + b"\0" * 47)
    local_reply = IP(src=SERVER, dst=WAN) / UDP(sport=123, dport=123) / Raw(b"\x1c" + b"\0" * 47)
    telnet = IP(src=HOST_A, dst=SERVER) / TCP(sport=7001, dport=23, flags="S")
    blocked = IP(src="192.0.2.5", dst=WAN) / TCP(sport=7002, dport=3389, flags="S")
    return b"".join([record(MAPPING, mapping), record(INBOUND, to_mapping), record(MAPPING, close), record(INBOUND, to_mapping),
                     record(INPUT, soap), record(INPUT, ssdp), record(INPUT, dns), record(LOCAL, local),
                     record(INBOUND, local_reply), record(OUTBOUND, telnet), record(INBOUND, blocked)])


def options_and_odd_headers():
    with_options = IP(src=HOST_A, dst=SERVER, options=b"\x01\x01\x01\x00") / UDP(sport=1111, dport=2222) / Raw(b"opt")
    gre = IP(src=HOST_A, dst=SERVER, proto=47) / Raw(b"\x00\x00\x08\x00" + b"g" * 20)
    zero_checksum_udp = IP(src=HOST_A, dst=SERVER) / UDP(sport=1112, dport=2223, chksum=0) / Raw(b"z")
    padded = raw(IP(src=HOST_A, dst=SERVER) / UDP(sport=1113, dport=2224) / Raw(b"p")) + b"\0" * 10
    return b"".join([record(OUTBOUND, with_options), record(OUTBOUND, gre), record(OUTBOUND, zero_checksum_udp),
                     record(OUTBOUND, padded), record(OUTBOUND | 8, zero_checksum_udp), record(OUTBOUND | 16, gre)])


def with_pseudo_header_sum(packet):
    """As the kernel hands over a CHECKSUM_PARTIAL packet: the transport checksum field
    holds only the pseudo-header sum (folded, not complemented)."""
    data = bytearray(raw(packet))
    ihl = (data[0] & 0x0F) * 4
    length = struct.unpack(">H", data[2:4])[0] - ihl
    words = data[12:20] + bytes([0, data[9]]) + struct.pack(">H", length)
    total = sum(struct.unpack(">6H", words))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    offset = ihl + (16 if data[9] == 6 else 6)
    data[offset:offset + 2] = struct.pack(">H", total)
    return bytes(data)


def checksum_partial():
    PARTIAL = 8
    out = IP(src=HOST_A, dst=SERVER) / TCP(sport=5001, dport=443, flags="S", seq=1)
    back = IP(src=SERVER, dst=WAN) / TCP(sport=443, dport=FIRST_EXTERNAL, flags="SA", seq=5, ack=2)
    udp_out = IP(src=HOST_B, dst=SERVER) / UDP(sport=5002, dport=53) / Raw(b"q" * 12)
    hairpin = IP(src=HOST_B, dst=WAN) / UDP(sport=5003, dport=27016) / Raw(b"h")
    return b"".join([record(OUTBOUND | PARTIAL, with_pseudo_header_sum(out)),
                     record(INBOUND | PARTIAL, with_pseudo_header_sum(back)),
                     record(OUTBOUND | PARTIAL, with_pseudo_header_sum(udp_out)),
                     record(HAIRPIN | PARTIAL, with_pseudo_header_sum(hairpin))])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "corpus", "packet_engine")
    os.makedirs(out, exist_ok=True)
    for name, build in [("tcp_conversation", tcp_conversation), ("udp_and_icmp_errors", udp_and_icmp_errors),
                        ("pings", pings), ("fragments", fragments), ("forwards_dmz_hairpin", forwards_dmz_hairpin),
                        ("upnp_and_local", upnp_and_local), ("options_and_odd_headers", options_and_odd_headers),
                        ("checksum_partial", checksum_partial)]:
        with open(os.path.join(out, name), "wb") as f:
            f.write(build())


if __name__ == "__main__":
    main()
