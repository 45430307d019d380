#!/usr/bin/env python3
"""IPv6 peers and probes for the lab (issue 8): labnet.py speaks IPv4 only.

    labnet6.py tcp-echo --port P              accept connections, echo each line back (until killed)
    labnet6.py udp-echo --port P              echo every datagram back (until killed)
    labnet6.py tcp-ask ADDR PORT [--timeout S] connect, send a line, expect it back; exit 1 if not
    labnet6.py udp-ask ADDR PORT [--timeout S] [--source-port P]
                                              send a datagram, expect it back; exit 1 if not
    labnet6.py packet-too-big TO MTU QSRC QSPORT QDST QDPORT
                                              send an ICMPv6 Packet Too Big to TO quoting a UDP datagram
                                              QSRC:QSPORT -> QDST:QDPORT (what a router on the path would)
    labnet6.py udp-flows ADDR --first-port P --flows N [--rate R]
                                              one datagram from one socket to each of N ports of ADDR
                                              (N new flows), R a second (0: as fast as it can)
    labnet6.py sniff-icmp6 IFACE TYPE [--timeout S]
                                              print the first ICMPv6 message of TYPE arriving on IFACE;
                                              exit 1 if none within the timeout
Each prints one line of what it did, for the test's log.
"""
import argparse
import socket
import struct
import sys
import time


def tcp_echo(args):
    server = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("::", args.port))
    server.listen(16)
    while True:
        conn, peer = server.accept()
        with conn:
            conn.settimeout(5)
            try:
                data = conn.recv(4096)
                if data:
                    conn.sendall(data)
                print(f"tcp [{peer[0]}]:{peer[1]}", flush=True)
            except OSError:
                pass


def udp_echo(args):
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.bind(("::", args.port))
    while True:
        data, peer = sock.recvfrom(65535)
        sock.sendto(data, peer)
        print(f"udp [{peer[0]}]:{peer[1]}", flush=True)


def tcp_ask(args):
    line = b"hello over ipv6\n"
    try:
        with socket.create_connection((args.address, args.port), timeout=args.timeout) as sock:
            sock.sendall(line)
            answer = sock.recv(4096)
    except OSError as error:
        print(f"tcp [{args.address}]:{args.port}: {error}")
        return 1
    print(f"tcp [{args.address}]:{args.port}: {'echoed' if answer == line else 'wrong answer'}")
    return 0 if answer == line else 1


def udp_ask(args):
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.bind(("::", args.source_port))
    sock.settimeout(args.timeout)
    payload = b"ping over ipv6"
    sock.sendto(payload, (args.address, args.port))
    try:
        data, peer = sock.recvfrom(65535)
    except OSError as error:
        print(f"udp [{args.address}]:{args.port}: {error}")
        return 1
    print(f"udp [{args.address}]:{args.port}: answer from [{peer[0]}]:{peer[1]}")
    return 0 if data == payload else 1


def packet_too_big(args):
    payload = b"x" * 1300
    udp = struct.pack("!HHHH", args.qsport, args.qdport, 8 + len(payload), 0) + payload
    header = struct.pack("!IHBB", 6 << 28, len(udp), 17, 64)
    header += socket.inet_pton(socket.AF_INET6, args.qsrc) + socket.inet_pton(socket.AF_INET6, args.qdst)
    quoted = (header + udp)[:1232 - 8]  # RFC 4443 2.4 (c): no more than fits the minimum MTU
    message = struct.pack("!BBHI", 2, 0, 0, args.mtu) + quoted  # the kernel fills in the checksum
    sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    sock.sendto(message, (args.to, 0))
    print(f"packet too big (mtu {args.mtu}) to {args.to} quoting [{args.qsrc}]:{args.qsport} -> [{args.qdst}]:{args.qdport}")
    return 0


def udp_flows(args):
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    started = time.monotonic()
    for n in range(args.flows):
        sock.sendto(b"flow", (args.address, args.first_port + n))
        if args.rate > 0:
            ahead = started + (n + 1) / args.rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    print(f"udp-flows: {args.flows} datagrams to [{args.address}]:{args.first_port}-{args.first_port + args.flows - 1} "
          f"in {time.monotonic() - started:.1f} s", flush=True)
    return 0


def sniff_icmp6(args):
    eth_p_ipv6 = 0x86DD
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(eth_p_ipv6))
    sock.bind((args.iface, eth_p_ipv6))
    print("listening", flush=True)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            frame = sock.recv(65535)
        except socket.timeout:
            break
        packet = frame[14:]
        if len(packet) >= 41 and packet[6] == 58 and packet[40] == args.type:
            source = socket.inet_ntop(socket.AF_INET6, packet[8:24])
            mtu = struct.unpack("!I", packet[44:48])[0] if len(packet) >= 48 else 0
            print(f"icmp6 type {args.type} from {source} mtu {mtu}", flush=True)
            return 0
    print(f"no icmp6 type {args.type} on {args.iface}", flush=True)
    return 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, handler in (("tcp-echo", tcp_echo), ("udp-echo", udp_echo)):
        p = commands.add_parser(name)
        p.add_argument("--port", type=int, required=True)
        p.set_defaults(handler=handler)
    for name, handler in (("tcp-ask", tcp_ask), ("udp-ask", udp_ask)):
        p = commands.add_parser(name)
        p.add_argument("address")
        p.add_argument("port", type=int)
        p.add_argument("--timeout", type=float, default=2.0)
        p.add_argument("--source-port", type=int, default=0)
        p.set_defaults(handler=handler)
    p = commands.add_parser("packet-too-big")
    for name, kind in (("to", str), ("mtu", int), ("qsrc", str), ("qsport", int), ("qdst", str), ("qdport", int)):
        p.add_argument(name, type=kind)
    p.set_defaults(handler=packet_too_big)
    p = commands.add_parser("udp-flows")
    p.add_argument("address")
    p.add_argument("--first-port", type=int, required=True)
    p.add_argument("--flows", type=int, required=True)
    p.add_argument("--rate", type=float, default=0)
    p.set_defaults(handler=udp_flows)
    p = commands.add_parser("sniff-icmp6")
    p.add_argument("iface")
    p.add_argument("type", type=int)
    p.add_argument("--timeout", type=float, default=3.0)
    p.set_defaults(handler=sniff_icmp6)
    args = parser.parse_args()
    return args.handler(args) or 0


if __name__ == "__main__":
    sys.exit(main())
