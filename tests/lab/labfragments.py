#!/usr/bin/python3
"""Fragmented UDP datagrams through the gatewayd lab, in any order (RFC 4787 REQ-14, issue 18.3).

One process does every step, entering the lab's namespaces with setns(2) to open its sockets
there (a socket stays in the namespace it was made in), so scapy is imported once. Crafted
fragments leave as Ethernet frames (AF_PACKET) to the gateway's MAC; the datagrams are received
by plain UDP sockets on the far host, which only a complete, correctly reassembled datagram
reaches. A sniffer on the WAN host notes the IP identification of every fragment the gateway
sends, to show that two LAN hosts' datagrams left with two (RFC 7857 §10).

  run --ns ROLE=NAMESPACE... --gw-lan-mac MAC --gw-wan-mac MAC --lan-ip A --lan2-ip A --wan-ip A
      --gw-wan-ip A --forward-port P
          every delivery check; prints "ok ..." per check, "FAIL ..." and exits 1 on the first failure
  incomplete --ns wan=NAMESPACE --gw-wan-mac MAC --wan-ip A --gw-wan-ip A --port P [--count N] [--size S]
          first fragments whose datagrams never complete (each its own identification)

Needs python3-scapy: run it with /usr/bin/python3 (Debian's), as the lab does.
"""

import argparse
import ctypes
import os
import select
import socket
import struct
import sys
import time

CLONE_NEWNET = 0x40000000
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
MARK_TTL = 77
# Three fragments of 400 transport bytes each: the datagram is 1200 bytes of UDP.
PIECE = 400
PAYLOAD = 1200 - 8
ORDERS = {"in-order": (0, 1, 2), "last-first": (2, 1, 0), "shuffled": (1, 2, 0)}

_libc = ctypes.CDLL(None, use_errno=True)


def enter(namespace: str) -> None:
    fd = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {namespace}")
    finally:
        os.close(fd)


class Lab:
    """Sockets opened in the lab's namespaces."""

    def __init__(self, namespaces: dict):
        self.namespaces = namespaces
        self.home = os.open("/proc/self/ns/net", os.O_RDONLY)

    def _in(self, role: str, make):
        enter(self.namespaces[role])
        try:
            return make()
        finally:
            _libc.setns(self.home, CLONE_NEWNET)

    def frames(self, role: str, interface: str = "eth0"):
        def make():
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind((interface, 0))
            return s
        return self._in(role, make)

    def udp(self, role: str, port: int):
        def make():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", port))
            return s
        return self._in(role, make)

    def sniffer(self, role: str, interface: str = "eth0"):
        def make():
            s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
            s.bind((interface, ETH_P_IP))
            s.setblocking(False)
            return s
        return self._in(role, make)


def payload_for(tag: str) -> bytes:
    head = tag.encode()
    return head + bytes((48 + i % 64) for i in range(PAYLOAD - len(head)))


def fragments(src: str, dst: str, sport: int, dport: int, ident: int, tag: str):
    """The three fragments of one UDP datagram, DF clear, TTL marked, as IP bytes."""
    from scapy.all import IP, UDP, Raw  # noqa: PLC0415 (slow import, once)
    datagram = bytes(UDP(sport=sport, dport=dport) / Raw(payload_for(tag)))
    pieces = []
    for start in range(0, len(datagram), PIECE):
        end = min(len(datagram), start + PIECE)
        header = IP(src=src, dst=dst, id=ident, ttl=MARK_TTL, proto=17, flags="MF" if end < len(datagram) else 0,
                    frag=start // 8)
        pieces.append(bytes(header / Raw(datagram[start:end])))
    return pieces


def frame(mac: str, ip_bytes: bytes) -> bytes:
    return bytes.fromhex(mac.replace(":", "")) + b"\x02\x00\x00\x00\x00\x01" + struct.pack("!H", ETH_P_IP) + ip_bytes


def receive(sock, want: int, timeout: float = 3.0):
    """Up to `want` datagrams (payload, source) arriving within `timeout`."""
    got, deadline = [], time.monotonic() + timeout
    while len(got) < want:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            break
        data, source = sock.recvfrom(65535)
        got.append((data, source))
    return got


def drain_sniffer(sock, dport: int):
    """(identification, offset, more, length) of each UDP fragment or datagram to `dport` the gateway sent."""
    seen = []
    while True:
        try:
            packet, address = sock.recvfrom(65535)
        except BlockingIOError:
            return seen
        if address[2] == PACKET_OUTGOING or len(packet) < 20 or packet[9] != 17 or packet[8] != MARK_TTL - 1:
            continue
        ident, flags = struct.unpack("!HH", packet[4:8])
        offset, more = (flags & 0x1FFF) * 8, bool(flags & 0x2000)
        header = (packet[0] & 0x0F) * 4
        if offset == 0 and struct.unpack("!H", packet[header + 2:header + 4])[0] != dport:
            continue
        seen.append((ident, offset, more, len(packet)))


class Checks:
    def __init__(self):
        self.count = 0

    def ok(self, text: str) -> None:
        self.count += 1
        print(f"ok    {text}", flush=True)

    @staticmethod
    def fail(text: str) -> None:
        print(f"FAIL  {text}", flush=True)
        sys.exit(1)


def send_in_order(sock, mac: str, pieces, order) -> None:
    for index in order:
        sock.send(frame(mac, pieces[index]))
        time.sleep(0.002)


def expect_whole(c: Checks, got, tag: str, source_address: str, what: str):
    if len(got) != 1:
        c.fail(f"{what}: {len(got)} datagram(s) arrived, expected the one")
    data, source = got[0]
    if data != payload_for(tag):
        c.fail(f"{what}: the datagram arrived damaged ({len(data)} bytes)")
    if source[0] != source_address:
        c.fail(f"{what}: it came from {source[0]}, expected {source_address}")
    return source


def outbound_new_flows(c: Checks, lab: Lab, a) -> None:
    """A new flow's first packet: three fragments from the LAN host in each order, nothing before."""
    lan = lab.frames("lan")
    server = lab.udp("wan", 7100)
    for n, order in enumerate(("last-first", "shuffled", "in-order")):
        tag = f"outbound-{order}"
        send_in_order(lan, a.gw_lan_mac, fragments(a.lan_ip, a.wan_ip, 41000 + n, 7100, 0x5100 + n, tag), ORDERS[order])
        source = expect_whole(c, receive(server, 1), tag, a.gw_wan_ip, f"outbound, {order}, first packet of a new flow")
        c.ok(f"outbound {order}: the first packet of a new flow arrived whole, from {source[0]}:{source[1]}")


def inbound_to_mapping(c: Checks, lab: Lab, a) -> None:
    """Into a mapping the LAN host opened: three fragments from the WAN host, in each order."""
    client = lab.udp("lan", 6000)
    server = lab.udp("wan", 7200)
    client.sendto(b"open", (a.wan_ip, 7200))
    opened = receive(server, 1)
    if not opened:
        c.fail("the LAN host's opening datagram never reached the WAN host")
    external = opened[0][1]
    wan = lab.frames("wan")
    for n, order in enumerate(("last-first", "shuffled")):
        tag = f"inbound-{order}"
        send_in_order(wan, a.gw_wan_mac, fragments(a.wan_ip, a.gw_wan_ip, 7200, external[1], 0x5200 + n, tag),
                      ORDERS[order])
        expect_whole(c, receive(client, 1), tag, a.wan_ip, f"inbound {order} to the mapping {external[0]}:{external[1]}")
        c.ok(f"inbound {order}: arrived whole at the LAN host through its mapping {external[0]}:{external[1]}")


def inbound_new_flow(c: Checks, lab: Lab, a) -> None:
    """To a static forward: the fragmented datagram is the first packet of its flow."""
    host = lab.udp("lan", a.forward_port)
    wan = lab.frames("wan")
    for n, order in enumerate(("last-first", "shuffled")):
        tag = f"forward-{order}"
        send_in_order(wan, a.gw_wan_mac, fragments(a.wan_ip, a.gw_wan_ip, 7300 + n, a.forward_port, 0x5300 + n, tag),
                      ORDERS[order])
        expect_whole(c, receive(host, 1), tag, a.wan_ip, f"inbound {order} to the forward, new flow")
        c.ok(f"inbound {order}: the first packet of a new flow through the forward arrived whole")


def colliding_identifications(c: Checks, lab: Lab, a) -> None:
    """lan1 and lan2 each send a 2-fragment datagram with ID 0x4242 to one WAN port, interleaved."""
    from scapy.all import IP, UDP, Raw  # noqa: PLC0415
    server = lab.udp("wan", 7400)
    sniffer = lab.sniffer("wan")
    drain_sniffer(sniffer, 7400)
    senders = {"lan": (lab.frames("lan"), a.lan_ip), "lan2": (lab.frames("lan2"), a.lan2_ip)}
    pieces = {}
    for role, (_, address) in senders.items():
        datagram = bytes(UDP(sport=7401, dport=7400) / Raw(payload_for(f"collision-{role}")[:792]))
        pieces[role] = [bytes(IP(src=address, dst=a.wan_ip, id=0x4242, ttl=MARK_TTL, proto=17,
                                 flags="MF" if start == 0 else 0, frag=start // 8) / Raw(datagram[start:start + 400]))
                        for start in (0, 400)]
    for index in (0, 1):
        for role, (sock, _) in senders.items():
            sock.send(frame(a.gw_lan_mac, pieces[role][index]))
            time.sleep(0.002)
    got = receive(server, 2)
    wanted = {payload_for("collision-lan")[:792], payload_for("collision-lan2")[:792]}
    if len(got) != 2 or {data for data, _ in got} != wanted:
        tags = [data[:14].decode(errors="replace") for data, _ in got]
        c.fail(f"interleaved 0x4242 datagrams of lan1 and lan2: {len(got)} arrived whole at the WAN host {tags}")
    time.sleep(0.1)
    firsts = sorted({ident for ident, offset, _, _ in drain_sniffer(sniffer, 7400) if offset == 0})
    if len(firsts) != 2:
        c.fail(f"the WAN host saw first fragments with identifications {[hex(i) for i in firsts]}, expected two")
    c.ok(f"lan1 and lan2 both sent ID 0x4242, interleaved: both datagrams arrived whole, the gateway sent them "
         f"as {hex(firsts[0])} and {hex(firsts[1])}")


def refragmented_at_the_original_size(c: Checks, lab: Lab, a) -> None:
    """The kernel sends the reassembled (and translated) datagram in pieces no larger than it got."""
    server = lab.udp("wan", 7500)
    sniffer = lab.sniffer("wan")
    drain_sniffer(sniffer, 7500)
    lan = lab.frames("lan")
    send_in_order(lan, a.gw_lan_mac, fragments(a.lan_ip, a.wan_ip, 42000, 7500, 0x5500, "sizes"), ORDERS["last-first"])
    expect_whole(c, receive(server, 1), "sizes", a.gw_wan_ip, "outbound sizes")
    time.sleep(0.1)
    seen = drain_sniffer(sniffer, 7500)
    largest = max((length for _, _, _, length in seen), default=0)
    if len(seen) != 3 or largest > 20 + PIECE:
        c.fail(f"the datagram left as {[(o, m, n) for _, o, m, n in seen]} (offset, MF, bytes): expected 3 pieces "
               f"of at most {20 + PIECE} bytes, as it came")
    c.ok(f"the translated datagram left in {len(seen)} fragments of at most {largest} bytes, as it came")


def run(args: argparse.Namespace) -> int:
    lab = Lab(dict(item.split("=", 1) for item in args.ns))
    c = Checks()
    outbound_new_flows(c, lab, args)
    inbound_to_mapping(c, lab, args)
    inbound_new_flow(c, lab, args)
    colliding_identifications(c, lab, args)
    refragmented_at_the_original_size(c, lab, args)
    print(f"{c.count} checks passed", flush=True)
    return 0


def incomplete(args: argparse.Namespace) -> int:
    """First fragments only, no scapy: built by hand so that a flood goes out fast."""
    lab = Lab(dict(item.split("=", 1) for item in args.ns))
    wan = lab.frames("wan")
    src, dst = socket.inet_aton(args.wan_ip), socket.inet_aton(args.gw_wan_ip)
    body = struct.pack("!HHHH", 7600, args.port, 8 + args.size * 2, 0) + bytes(args.size - 8)
    started = time.monotonic()
    for n in range(args.count):
        ident = (args.first_id + n) & 0xFFFF
        header = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), ident, 0x2000, MARK_TTL, 17, 0, src, dst))
        total = sum(struct.unpack("!10H", header))
        while total >> 16:
            total = (total & 0xFFFF) + (total >> 16)
        header[10:12] = struct.pack("!H", ~total & 0xFFFF)
        wan.send(frame(args.gw_wan_mac, bytes(header) + body))
    print(f"sent {args.count} incomplete datagram(s) of {20 + len(body)} bytes in {time.monotonic() - started:.2f} s")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    every = commands.add_parser("run")
    every.add_argument("--ns", action="append", required=True, help="ROLE=NAMESPACE (lan, lan2, wan)")
    for option in ("--gw-lan-mac", "--gw-wan-mac", "--lan-ip", "--lan2-ip", "--wan-ip", "--gw-wan-ip"):
        every.add_argument(option, required=True)
    every.add_argument("--forward-port", type=int, required=True)
    flood = commands.add_parser("incomplete")
    flood.add_argument("--ns", action="append", required=True)
    for option in ("--gw-wan-mac", "--wan-ip", "--gw-wan-ip"):
        flood.add_argument(option, required=True)
    flood.add_argument("--port", type=int, required=True)
    flood.add_argument("--count", type=int, default=1)
    flood.add_argument("--first-id", type=lambda t: int(t, 0), default=0x6000)
    flood.add_argument("--size", type=int, default=1000, help="bytes of UDP in each first fragment (multiple of 8)")
    args = parser.parse_args()
    return run(args) if args.command == "run" else incomplete(args)


if __name__ == "__main__":
    sys.exit(main())
