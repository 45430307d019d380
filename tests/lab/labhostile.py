#!/usr/bin/python3
"""Hostile and malformed packets for the gatewayd lab (issue 7), crafted with scapy.

Every crafted packet is MARKED: IP identification 0xBAxx (unique per packet, printed by the
sender with the packet's name) and TTL 77 (76 once the gateway forwarded it). Ordinary lab
traffic has TTL 64, so the sniffer below tells crafted packets from everything else, and a
test can say exactly which ones reached a host.

Packets go out as Ethernet frames (AF_PACKET) straight to the gateway's MAC: a raw IP socket
would have the sender's kernel fix the total length and the header checksum, which are among
the lies under test.

  send GROUP --side wan|lan --gw-mac MAC [flow options]  send one group of crafted packets;
                                  prints "0xBAxx <name>" per packet
  sniff-marked --interface IF --log FILE                  log every marked packet arriving on IF:
                                  "0xBAxx ttl=N <src> > <dst> proto=P len=L frag=F[+] id=0xBAxx"
                                  ("renumbered ... id=0xNNNN": TTL-marked, ID the gateway's)
  hold-tcp HOST PORT --go FILE    connect to a line-echo server, print its answer to "before";
                                  once FILE exists send "after" and print that answer too
  check-arrivals --sent F --sniffed F  compare what `send` printed with what `sniff-marked` saw:
                                  each "(passes)" packet exactly once, no other; exit 1 otherwise
  drops STATUS-JSON               "<reason> <count>" per drop counter of `gatewayctl status --json`
  groups                          the groups `send` knows, one per line

Needs python3-scapy: run it with /usr/bin/python3 (Debian's), as the lab does.
"""

import argparse
import json
import os
import socket
import struct
import sys
import time

MARK_TTL = 77
MARK_ID_BASE = 0xBA00
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4


# ---------------------------------------------------------------------------------------------
# Sniffing (no scapy needed: a plain AF_PACKET socket starts at once)

def sniff_marked(args: argparse.Namespace) -> int:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    sock.bind((args.interface, ETH_P_IP))
    print(f"sniffing on {args.interface}", flush=True)
    while True:
        packet, address = sock.recvfrom(65535)
        if address[2] == PACKET_OUTGOING or len(packet) < 20:
            continue
        ident, frag = struct.unpack("!HH", packet[4:8])
        ttl = packet[8]
        if ttl not in (MARK_TTL, MARK_TTL - 1):
            continue
        # A crafted datagram that may be fragmented leaves the gateway from the LAN with an
        # identification of the gateway's own (RFC 7857 §10): still marked by its TTL.
        mark = f"0x{ident:04X}" if ident >> 8 == MARK_ID_BASE >> 8 else "renumbered"
        source, destination = socket.inet_ntoa(packet[12:16]), socket.inet_ntoa(packet[16:20])
        more = "+" if frag & 0x2000 else ""
        line = (f"{mark} ttl={ttl} {source} > {destination} proto={packet[9]} len={len(packet)} "
                f"frag={(frag & 0x1FFF) * 8}{more} id=0x{ident:04X}")
        with open(args.log, "a", encoding="utf-8") as log:
            log.write(line + "\n")


# ---------------------------------------------------------------------------------------------
# A long-lived TCP connection through the gateway, checked before and after the barrage

def hold_tcp(args: argparse.Namespace) -> int:
    with socket.create_connection((args.host, args.port), timeout=5) as sock:
        replies = sock.makefile("rb")
        for word in ("before", "after"):
            if word == "after":
                deadline = time.monotonic() + args.wait
                while not os.path.exists(args.go):
                    if time.monotonic() > deadline:
                        print("hold-tcp: never told to go on", file=sys.stderr)
                        return 1
                    time.sleep(0.05)
            sock.sendall(word.encode() + b"\n")
            answer = replies.readline().decode(errors="replace").strip()
            if not answer.endswith(" " + word):
                print(f"hold-tcp: answer to {word!r} was {answer!r}", file=sys.stderr)
                return 1
            print(answer, flush=True)
    return 0


def check_arrivals(args: argparse.Namespace) -> int:
    """Each crafted packet named "...(passes)" must have arrived once, with its mark; each named
    "...(passes renumbered)" once with an identification of the gateway's; no other one may have."""
    expected, names = {}, {}
    with open(args.sent, encoding="utf-8") as f:
        for line in f:
            ident, offset, name = line.split(maxsplit=2)
            name = name.strip()
            key = ("renumbered" if name.endswith("(passes renumbered)") else ident, int(offset))
            names.setdefault(key, []).append(name)
            expected[key] = expected.get(key, 0) + (1 if name.endswith(("(passes)", "(passes renumbered)")) else 0)
    arrived = {}
    with open(args.sniffed, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            frag = next(x for x in fields if x.startswith("frag="))[5:].rstrip("+")
            key = (fields[0], int(frag))
            arrived[key] = arrived.get(key, 0) + 1
    problems = 0
    for key in sorted(set(expected) | set(arrived)):
        want, got = expected.get(key, 0), arrived.get(key, 0)
        if want != got:
            problems += 1
            what = ", ".join(names.get(key, ["(not sent by this barrage)"]))
            print(f"{key[0]} offset {key[1]} ({what}): expected {want} arrival(s), saw {got}")
    passes = sum(expected.values())
    stopped = sum(len(v) for v in names.values()) - passes
    if not problems:
        print(f"{passes} crafted packet(s) arrived as they should; {stopped} stopped")
    return 1 if problems else 0


def drops(args: argparse.Namespace) -> int:
    with open(args.status, encoding="utf-8") as f:
        status = json.load(f)
    for reason, count in sorted(status["counters"]["drops"].items()):
        print(f"{reason} {count}")
    return 0


# ---------------------------------------------------------------------------------------------
# Crafting

class Barrage:
    """Collects marked packets (name, scapy IP packet, raw override) and sends them as frames."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.packets = []
        self.next_id = MARK_ID_BASE + args.first_id

    def ip(self, name: str, **fields):
        from scapy.all import IP  # noqa: PLC0415 (scapy is slow to import; sniffing needs none)
        ident = self.next_id
        self.next_id += 1
        packet = IP(id=ident, ttl=MARK_TTL, **fields)
        return name, ident, packet

    def add(self, entry, raw: "bytes | None" = None) -> None:
        name, ident, packet = entry
        self.packets.append((name, ident, raw if raw is not None else bytes(packet)))

    def send(self) -> None:
        from scapy.all import Ether, conf, sendp  # noqa: PLC0415
        conf.verb = 0
        frames = [Ether(dst=self.args.gw_mac, type=ETH_P_IP) / raw_ip(raw) for _, _, raw in self.packets]
        for (name, ident, raw), frame in zip(self.packets, frames):
            offset = (struct.unpack("!H", raw[6:8])[0] & 0x1FFF) * 8 if len(raw) >= 8 else 0
            print(f"0x{ident:04X} {offset} {name}", flush=True)
            sendp(frame, iface=self.args.interface, verbose=False)
            time.sleep(self.args.gap)


def raw_ip(raw: bytes):
    from scapy.all import Raw  # noqa: PLC0415
    return Raw(raw)


def fix_ip_checksum(raw: bytearray) -> bytes:
    raw[10:12] = b"\0\0"
    header_length = (raw[0] & 0x0F) * 4
    header = bytes(raw[:max(20, min(header_length, len(raw)))])
    total = sum(struct.unpack(f"!{len(header) // 2}H", header[: len(header) // 2 * 2]))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    raw[10:12] = struct.pack("!H", ~total & 0xFFFF)
    return bytes(raw)


def control_from_wan(b: Barrage, a: argparse.Namespace) -> None:
    """A well-formed datagram into the live UDP mapping: proves the far sniffer hears."""
    from scapy.all import UDP, Raw  # noqa: PLC0415
    entry = b.ip("udp-into-the-mapping(passes)", src=a.remote, dst=a.target)
    b.add((entry[0], entry[1], entry[2] / UDP(sport=a.udp_remote_port, dport=a.udp_port) / Raw(b"control")))


def control_from_lan(b: Barrage, a: argparse.Namespace) -> None:
    """A well-formed datagram from the LAN host's mapped socket to the WAN host."""
    from scapy.all import UDP, Raw  # noqa: PLC0415
    # DF set: an atomic datagram keeps its mark; the gateway renumbers the others (RFC 7857 §10).
    entry = b.ip("udp-from-the-mapped-socket(passes)", src=a.lan_host, dst=a.remote, flags="DF")
    b.add((entry[0], entry[1], entry[2] / UDP(sport=a.udp_lan_port, dport=a.udp_remote_port) / Raw(b"control")))


def group_malformed(b: Barrage, a: argparse.Namespace) -> None:
    """Lies in the IP header (the kernel drops these before NFQUEUE) and cut-short transport headers."""
    from scapy.all import TCP, UDP, Raw  # noqa: PLC0415
    to_mapping = dict(src=a.remote, dst=a.target)
    udp_ok = UDP(sport=a.udp_remote_port, dport=a.udp_port) / Raw(b"hostile-payload")

    entry = b.ip("ip-bad-header-checksum", **to_mapping)
    raw = bytearray(bytes(entry[2] / udp_ok))
    raw[10] ^= 0x5A
    b.add(entry, bytes(raw))

    entry = b.ip("ip-total-length-beyond-frame", **to_mapping)
    raw = bytearray(bytes(entry[2] / udp_ok))
    raw[2:4] = struct.pack("!H", len(raw) + 200)
    b.add(entry, fix_ip_checksum(raw))

    entry = b.ip("ip-total-length-below-header", **to_mapping)
    raw = bytearray(bytes(entry[2] / udp_ok))
    raw[2:4] = struct.pack("!H", 12)
    b.add(entry, fix_ip_checksum(raw))

    entry = b.ip("ip-ihl-below-5", **to_mapping)
    raw = bytearray(bytes(entry[2] / udp_ok))
    raw[0] = 0x43
    b.add(entry, fix_ip_checksum(raw))

    entry = b.ip("ip-ihl-beyond-packet", **to_mapping)
    raw = bytearray(bytes(entry[2] / UDP(sport=a.udp_remote_port, dport=a.udp_port)))  # 28 bytes, IHL says 60
    raw[0] = 0x4F
    b.add(entry, fix_ip_checksum(raw))

    entry = b.ip("udp-header-cut-short", proto=17, **to_mapping)
    b.add(entry, bytes(entry[2] / Raw(struct.pack("!HH", a.udp_remote_port, a.udp_port))))

    entry = b.ip("tcp-header-cut-short", proto=6, **to_mapping)
    b.add(entry, bytes(entry[2] / Raw(struct.pack("!HHI", a.tcp_remote_port, a.tcp_port, 1))))

    entry = b.ip("tcp-data-offset-beyond-segment", **to_mapping)
    b.add((entry[0], entry[1], entry[2] / TCP(sport=a.tcp_remote_port, dport=a.tcp_port, flags="A", dataofs=15)))

    entry = b.ip("icmp-header-cut-short", proto=1, **to_mapping)
    b.add(entry, bytes(entry[2] / Raw(b"\x08\x00\x00")))

    # Exactly at the server's next sequence number: with a good checksum this RST would close the
    # connection (RFC 5961 3.2), so a corrupted or forged one must not.
    entry = b.ip("tcp-rst-bad-checksum-in-flow", **to_mapping)
    b.add((entry[0], entry[1], entry[2] / TCP(sport=a.tcp_remote_port, dport=a.tcp_port, flags="R",
                                               seq=a.tcp_seq, chksum=0xDEAD)))

    # Passed on, where that is right: the NAT does not vouch for end-to-end UDP checksums (RFC 768
    # leaves that to the receiver); it must neither fix nor drop it, and the LAN host's stack discards it.
    entry = b.ip("udp-bad-checksum-in-mapping(passes)", **to_mapping)
    b.add((entry[0], entry[1], entry[2] / UDP(sport=a.udp_remote_port, dport=a.udp_port, chksum=0xBEEF) /
           Raw(b"hostile-payload")))


def group_tcp_flags(b: Barrage, a: argparse.Namespace) -> None:
    """Flag combinations no stack sends, aimed at the live TCP connection's tuple."""
    from scapy.all import TCP  # noqa: PLC0415
    for name, flags in (("syn+fin", "SF"), ("syn+rst", "SR"), ("no-flags", ""), ("all-flags", "FSRPAUEC"),
                        ("fin-without-ack", "F"), ("syn+fin+psh+urg(xmas)", "SFPU")):
        entry = b.ip(f"tcp-{name}", src=a.remote, dst=a.target)
        b.add((entry[0], entry[1], entry[2] / TCP(sport=a.tcp_remote_port, dport=a.tcp_port, flags=flags,
                                                   seq=a.tcp_seq, ack=a.tcp_ack)))
    # The same to a port nothing is mapped on: no flow may start on them either.
    entry = b.ip("tcp-syn+fin-to-unmapped-port", src=a.remote, dst=a.target)
    b.add((entry[0], entry[1], entry[2] / TCP(sport=4444, dport=47999, flags="SF")))
    control_from_wan(b, a)


def fragments_of(b: Barrage, name: str, a: argparse.Namespace, payload: bytes, pieces, passes: str = "none") -> None:
    """Fragments of one UDP datagram to the mapping: pieces are (start, end, more) over its bytes;
    `passes` says which must reach the LAN host: "all", "first" or "none"."""
    from scapy.all import IP, UDP, Raw  # noqa: PLC0415
    datagram = bytes(UDP(sport=a.udp_remote_port, dport=a.udp_port) / Raw(payload))
    ident = b.next_id
    b.next_id += 1
    for index, (start, end, more) in enumerate(pieces):
        header = IP(src=a.remote, dst=a.target, id=ident, ttl=MARK_TTL, proto=17, flags="MF" if more else 0,
                    frag=start // 8)
        label = f"{name}[{index}]" + ("(passes)" if passes == "all" or (passes == "first" and index == 0) else "")
        b.packets.append((label, ident, bytes(header / Raw(datagram[start:end]))))


def group_fragments(b: Barrage, a: argparse.Namespace) -> None:
    """Fragments a reassembling receiver must refuse, and one well-formed datagram as the control."""
    from scapy.all import IP, TCP, Raw  # noqa: PLC0415
    body = bytes(range(48, 48 + 64))  # 8 + 64 = 72 transport bytes
    fragments_of(b, "frag-control", a, body, [(0, 24, True), (24, 48, True), (48, 72, False)], passes="all")
    fragments_of(b, "frag-later-without-first", a, body, [(24, 48, True), (48, 72, False)])
    # The gateway's kernel reassembles ahead of the queue (issue 18.3), so nothing of these
    # passes, not even their well-formed first fragment: the datagram never completes.
    fragments_of(b, "frag-overlap", a, body, [(0, 24, True), (16, 40, True)])
    fragments_of(b, "frag-first-twice", a, body, [(0, 24, True), (0, 24, True)])
    fragments_of(b, "frag-zero-length", a, body, [(0, 24, True), (24, 24, True)])
    # Ping of death: data ending past 65535 bytes.
    fragments_of(b, "frag-oversized", a, body, [(0, 24, True)])
    ident = b.packets[-1][1]
    header = IP(src=a.remote, dst=a.target, id=ident, ttl=MARK_TTL, proto=17, frag=65512 // 8)
    b.packets.append(("frag-oversized[1]", ident, bytes(header / Raw(bytes(40)))))
    # RFC 1858: a first fragment too short to hold the TCP ports and flags.
    entry = b.ip("frag-tiny-tcp-first", src=a.remote, dst=a.target, proto=6, flags="MF")
    b.add(entry, bytes(entry[2] / Raw(bytes(TCP(sport=a.tcp_remote_port, dport=a.tcp_port))[:8])))


def group_lan_fragments(b: Barrage, a: argparse.Namespace) -> None:
    """From the LAN: later fragments that no first fragment let out."""
    from scapy.all import IP, UDP, Raw  # noqa: PLC0415
    datagram = bytes(UDP(sport=5999, dport=a.udp_remote_port) / Raw(bytes(64)))
    for name, start, end, more in (("lan-frag-later-without-first", 24, 48, True),
                                   ("lan-frag-last-without-first", 48, 72, False)):
        entry = b.ip(name, src=a.lan_host, dst=a.remote, proto=17, flags="MF" if more else 0, frag=start // 8)
        b.add(entry, bytes(entry[2] / Raw(datagram[start:end])))
    # The control: a whole fragmented datagram from the mapped socket leaves, every fragment of it,
    # under an identification of the gateway's (RFC 7857 §10).
    datagram = bytes(UDP(sport=a.udp_lan_port, dport=a.udp_remote_port) / Raw(bytes(64)))
    ident = b.next_id
    b.next_id += 1
    for index, (start, end, more) in enumerate(((0, 24, True), (24, 48, True), (48, 72, False))):
        header = IP(src=a.lan_host, dst=a.remote, id=ident, ttl=MARK_TTL, proto=17, flags="MF" if more else 0,
                    frag=start // 8)
        b.packets.append((f"lan-frag-control[{index}](passes renumbered)", ident,
                          bytes(header / Raw(datagram[start:end]))))


def quoted_udp(src: str, dst: str, sport: int, dport: int):
    from scapy.all import IP, UDP  # noqa: PLC0415
    return IP(src=src, dst=dst, ttl=63) / UDP(sport=sport, dport=dport, len=20) / bytes(12)


def group_icmp_errors(b: Barrage, a: argparse.Namespace) -> None:
    """ICMP errors from the WAN about flows that are not there, or not theirs to name."""
    from scapy.all import ICMP  # noqa: PLC0415
    unreachable = dict(type=3, code=3)
    cases = (
        ("icmp-error-quoting-no-flow", quoted_udp(a.target, a.remote, 47998, 9)),
        ("icmp-error-quoting-lan-address", quoted_udp(a.lan_host, a.remote, a.udp_lan_port, a.udp_remote_port)),
        ("icmp-error-quoting-other-remote", quoted_udp(a.target, "203.0.113.99", a.udp_port, a.udp_remote_port)),
    )
    for name, quoted in cases:
        entry = b.ip(name, src=a.remote, dst=a.target)
        b.add((entry[0], entry[1], entry[2] / ICMP(**unreachable) / bytes(quoted)))
    quoted = bytes(quoted_udp(a.target, a.remote, a.udp_port, a.udp_remote_port))
    entry = b.ip("icmp-error-bad-checksum", src=a.remote, dst=a.target)
    b.add((entry[0], entry[1], entry[2] / ICMP(chksum=0x1234, **unreachable) / quoted))
    entry = b.ip("icmp-error-quote-cut-short", src=a.remote, dst=a.target)
    b.add((entry[0], entry[1], entry[2] / ICMP(**unreachable) / quoted[:12]))
    # Held by the gateway's kernel reassembly, never complete: it never reaches gatewayd.
    entry = b.ip("icmp-error-fragmented", src=a.remote, dst=a.target, flags="MF")
    b.add((entry[0], entry[1], entry[2] / ICMP(**unreachable) / quoted))
    # The control: a true port unreachable about the live UDP mapping is translated to the LAN host.
    entry = b.ip("icmp-error-about-the-mapping(passes)", src=a.remote, dst=a.target)
    b.add((entry[0], entry[1], entry[2] / ICMP(**unreachable) / quoted))


def group_lan_icmp_errors(b: Barrage, a: argparse.Namespace) -> None:
    """From a LAN host: errors about another host's flow, or about no flow at all."""
    from scapy.all import ICMP  # noqa: PLC0415
    other = quoted_udp(a.remote, a.other_lan_host, a.udp_remote_port, a.udp_lan_port)
    entry = b.ip("lan-icmp-error-about-other-host", src=a.lan_host, dst=a.remote)
    b.add((entry[0], entry[1], entry[2] / ICMP(type=3, code=3) / bytes(other)))
    nothing = quoted_udp(a.remote, a.lan_host, 9, 47997)
    entry = b.ip("lan-icmp-error-about-no-flow", src=a.lan_host, dst=a.remote)
    b.add((entry[0], entry[1], entry[2] / ICMP(type=3, code=3) / bytes(nothing)))
    # The control: the LAN host's own port unreachable about the mapping's traffic is translated.
    own = quoted_udp(a.remote, a.lan_host, a.udp_remote_port, a.udp_lan_port)
    entry = b.ip("lan-icmp-error-about-its-own-flow(passes)", src=a.lan_host, dst=a.remote, flags="DF")
    b.add((entry[0], entry[1], entry[2] / ICMP(type=3, code=3) / bytes(own)))


def group_wan_spoofing(b: Barrage, a: argparse.Namespace) -> None:
    """From the WAN: LAN, loopback, own and martian sources; packets for addresses behind or of the gateway."""
    from scapy.all import UDP, Raw  # noqa: PLC0415
    probe = UDP(sport=a.udp_remote_port, dport=a.udp_port) / Raw(b"hostile-payload")
    for name, source in (("wan-src-lan-host", a.lan_host), ("wan-src-loopback", "127.0.0.1"),
                         ("wan-src-gateway-wan-address", a.target), ("wan-src-multicast", "224.0.0.5"),
                         ("wan-src-this-network", "0.1.2.3")):
        entry = b.ip(name, src=source, dst=a.target)
        b.add((entry[0], entry[1], entry[2] / probe))
    for name, destination in (("wan-dst-lan-host", a.lan_host), ("wan-dst-gateway-lan-address", a.gw_lan)):
        entry = b.ip(name, src=a.remote, dst=destination)
        b.add((entry[0], entry[1], entry[2] / UDP(sport=a.udp_remote_port, dport=a.udp_lan_port) /
               Raw(b"hostile-payload")))
    entry = b.ip("wan-dst-gateway-unmapped-port", src=a.remote, dst=a.target)
    b.add((entry[0], entry[1], entry[2] / UDP(sport=a.udp_remote_port, dport=47996) / Raw(b"hostile-payload")))
    control_from_wan(b, a)


def group_lan_spoofing(b: Barrage, a: argparse.Namespace) -> None:
    """From the LAN: sources that are not the LAN's, towards the WAN host and the gateway's two addresses."""
    from scapy.all import UDP, Raw  # noqa: PLC0415
    probe = UDP(sport=5998, dport=a.udp_remote_port) / Raw(b"hostile-payload")
    for name, source, destination in (("lan-src-foreign-to-wan", "10.9.9.9", a.remote),
                                      ("lan-src-internet-to-wan", "198.18.0.7", a.remote),
                                      ("lan-src-foreign-to-gateway", "10.9.9.9", a.gw_lan),
                                      ("lan-src-foreign-to-gateway-wan-address", "10.9.9.9", a.target)):
        entry = b.ip(name, src=source, dst=destination)
        b.add((entry[0], entry[1], entry[2] / probe))
    # A LAN source, but a TCP header cut short, for the gateway itself (the input hook parses too).
    entry = b.ip("lan-tcp-header-cut-short-to-gateway", src=a.lan_host, dst=a.gw_lan, proto=6)
    b.add(entry, bytes(entry[2] / Raw(struct.pack("!HHI", 5997, 22, 1))))
    control_from_lan(b, a)


GROUPS = {
    "malformed": group_malformed,
    "tcp-flags": group_tcp_flags,
    "fragments": group_fragments,
    "lan-fragments": group_lan_fragments,
    "icmp-errors": group_icmp_errors,
    "lan-icmp-errors": group_lan_icmp_errors,
    "wan-spoofing": group_wan_spoofing,
    "lan-spoofing": group_lan_spoofing,
}


def send(args: argparse.Namespace) -> int:
    barrage = Barrage(args)
    GROUPS[args.group](barrage, args)
    barrage.send()
    return 0


def list_groups(_: argparse.Namespace) -> int:
    for name, build in GROUPS.items():
        print(f"{name}: {build.__doc__}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    sender = commands.add_parser("send")
    sender.add_argument("group", choices=sorted(GROUPS))
    sender.add_argument("--interface", default="eth0")
    sender.add_argument("--gw-mac", required=True)
    sender.add_argument("--first-id", type=lambda s: int(s, 0), default=1, help="low byte of the first mark")
    sender.add_argument("--gap", type=float, default=0.01, help="seconds between packets")
    sender.add_argument("--target", default="203.0.113.1", help="the gateway's WAN address")
    sender.add_argument("--gw-lan", default="192.168.50.1")
    sender.add_argument("--remote", default="203.0.113.2", help="the WAN host")
    sender.add_argument("--lan-host", default="192.168.50.10")
    sender.add_argument("--other-lan-host", default="192.168.50.20")
    sender.add_argument("--udp-port", type=int, default=0, help="the UDP mapping's external port")
    sender.add_argument("--udp-lan-port", type=int, default=0, help="its internal port")
    sender.add_argument("--udp-remote-port", type=int, default=0, help="the remote end of the UDP flow")
    sender.add_argument("--tcp-port", type=int, default=0, help="the TCP connection's external port")
    sender.add_argument("--tcp-remote-port", type=int, default=0)
    sender.add_argument("--tcp-seq", type=int, default=0x12345678, help="the server's next sequence number")
    sender.add_argument("--tcp-ack", type=int, default=0x9ABCDEF0, help="what the server acknowledges")
    sender.set_defaults(run=send)

    sniffer = commands.add_parser("sniff-marked")
    sniffer.add_argument("--interface", required=True)
    sniffer.add_argument("--log", required=True)
    sniffer.set_defaults(run=sniff_marked)

    hold = commands.add_parser("hold-tcp")
    hold.add_argument("host")
    hold.add_argument("port", type=int)
    hold.add_argument("--go", required=True)
    hold.add_argument("--wait", type=float, default=120.0)
    hold.set_defaults(run=hold_tcp)

    arrivals = commands.add_parser("check-arrivals")
    arrivals.add_argument("--sent", required=True)
    arrivals.add_argument("--sniffed", required=True)
    arrivals.set_defaults(run=check_arrivals)

    drop = commands.add_parser("drops")
    drop.add_argument("status", metavar="STATUS-JSON")
    drop.set_defaults(run=drops)

    groups = commands.add_parser("groups")
    groups.set_defaults(run=list_groups)
    return parser


def main() -> int:
    args = _parser().parse_args()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
