#!/usr/bin/python3
"""Forged requests and errors for the gatewayd lab (issue 14: the LAN is hostile too), crafted with
scapy. Run with Debian's python3 (for scapy).

  natpmp --interface IF --gw-mac MAC --src IP --server IP --protocol udp|tcp --internal PORT
         --external PORT [--lifetime S] [--count N] [--sources K]
      NAT-PMP mapping requests (RFC 6886 §3.3) in Ethernet frames from this host's own MAC
      (the one a switch port would show) with the IP source SRC: another host's address, the
      gateway's own, the broadcast address, an invented one (--sources K: K consecutive addresses
      from SRC on, in turn).
  pcp    --interface IF --gw-mac MAC --src IP --server IP --protocol udp|tcp --internal PORT
         --external PORT [--lifetime S] [--count N]
      PCP MAP requests (RFC 6887 §11) the same way, the PCP client address field = SRC.
  udp-hold --server IP --port PORT --go FILE --log FILE [--source-port PORT]
      a connected UDP socket: sends one datagram to SERVER:PORT, logs "sent", waits for FILE, then
      listens 2 s and logs "refused" if an ICMP port unreachable closed it (ECONNREFUSED), else "quiet".
      --source-port binds it to that port (one whose mapping the test knows).
  icmp-unreachable --quoted-src IP --quoted-sport PORT --quoted-dst IP --quoted-dport PORT
      one ICMP port unreachable (type 3 code 3) from this host (routed, scapy's send) to QUOTED-SRC,
      quoting the UDP datagram QUOTED-SRC:PORT -> QUOTED-DST:PORT.
"""

import argparse
import os
import socket
import struct
import sys
import time

PROTOCOLS = {"tcp": 6, "udp": 17}


def natpmp_request(args: argparse.Namespace) -> bytes:
    opcode = 1 if args.protocol == "udp" else 2
    return struct.pack("!BBHHHI", 0, opcode, 0, args.internal, args.external, args.lifetime)


def pcp_request(args: argparse.Namespace) -> bytes:
    client = socket.inet_pton(socket.AF_INET6, "::ffff:" + args.src)
    header = struct.pack("!BBHI", 2, 1, 0, args.lifetime) + client
    body = os.urandom(12) + struct.pack("!B3xHH", PROTOCOLS[args.protocol], args.internal, args.external)
    return header + body + socket.inet_pton(socket.AF_INET6, "::")


def send_forged(args: argparse.Namespace, payload: bytes, sport: int) -> int:
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.sendrecv import sendp
    first = struct.unpack("!I", socket.inet_aton(args.src))[0]
    sources = [socket.inet_ntoa(struct.pack("!I", first + i % args.sources)) for i in range(args.count)]
    frames = [Ether(dst=args.gw_mac) / IP(src=source, dst=args.server) / UDP(sport=sport, dport=5351) / payload
              for source in sources]
    sendp(frames, iface=args.interface, inter=0.01 if args.count <= 20 else 0, verbose=False)
    print(f"sent {args.count} forged request(s) from {args.sources} source(s) starting at {args.src}")
    return 0


def udp_hold(args: argparse.Namespace) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("0.0.0.0", args.source_port))
        s.connect((args.server, args.port))
        s.send(b"hold")
        with open(args.log, "a", encoding="utf-8") as log:
            log.write(f"sent {s.getsockname()[1]}\n")
        while not os.path.exists(args.go):
            time.sleep(0.05)
        s.settimeout(2)
        try:
            s.recv(100)
            outcome = "answered"
        except ConnectionRefusedError:
            outcome = "refused"
        except socket.timeout:
            outcome = "quiet"
        with open(args.log, "a", encoding="utf-8") as log:
            log.write(outcome + "\n")
    return 0


def icmp_unreachable(args: argparse.Namespace) -> int:
    from scapy.layers.inet import ICMP, IP, UDP
    from scapy.sendrecv import send
    quoted = IP(src=args.quoted_src, dst=args.quoted_dst) / UDP(sport=args.quoted_sport, dport=args.quoted_dport) / b"hold"
    send(IP(dst=args.quoted_src) / ICMP(type=3, code=3) / bytes(quoted), verbose=False)
    print(f"sent port unreachable about {args.quoted_src}:{args.quoted_sport} -> {args.quoted_dst}:{args.quoted_dport}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("natpmp", "pcp"):
        c = commands.add_parser(name)
        c.add_argument("--interface", required=True)
        c.add_argument("--gw-mac", required=True)
        c.add_argument("--src", required=True)
        c.add_argument("--server", required=True)
        c.add_argument("--protocol", choices=sorted(PROTOCOLS), default="udp")
        c.add_argument("--internal", type=int, required=True)
        c.add_argument("--external", type=int, required=True)
        c.add_argument("--lifetime", type=int, default=3600)
        c.add_argument("--count", type=int, default=1)
        c.add_argument("--sources", type=int, default=1, help="cycle through this many addresses from --src on")
    h = commands.add_parser("udp-hold")
    h.add_argument("--server", required=True)
    h.add_argument("--port", type=int, required=True)
    h.add_argument("--go", required=True)
    h.add_argument("--log", required=True)
    h.add_argument("--source-port", type=int, default=0)
    i = commands.add_parser("icmp-unreachable")
    i.add_argument("--quoted-src", required=True)
    i.add_argument("--quoted-sport", type=int, required=True)
    i.add_argument("--quoted-dst", required=True)
    i.add_argument("--quoted-dport", type=int, required=True)
    args = parser.parse_args()
    if args.command == "natpmp":
        return send_forged(args, natpmp_request(args), 5350)
    if args.command == "pcp":
        return send_forged(args, pcp_request(args), 5350)
    if args.command == "udp-hold":
        return udp_hold(args)
    return icmp_unreachable(args)


if __name__ == "__main__":
    sys.exit(main())
