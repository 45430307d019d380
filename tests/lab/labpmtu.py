#!/usr/bin/python3
"""Path-MTU and TTL probes for the gatewayd lab (issue 18.2: the gateway's own ICMP errors), with a
real Linux UDP socket beside scapy. Run with Debian's python3 (for scapy). Each command prints JSON
lines: one {"kind": "socket", ...} with what the socket learned, then one {"kind": "icmp", ...} per
ICMP error this host received during the probes, with the datagram it quotes and whether the quote
is the datagram this host sent (addresses, ports, IP header checksum, UDP checksum).

  from-wan --port P --payload N [--ttl-probe]
      the WAN host: binds UDP P, waits for a LAN host's datagram (the mapping's opener) and connects
      to the endpoint it came from (the gateway's WAN address and external port); with
      IP_MTU_DISCOVER = IP_PMTUDISC_DO sends one datagram of N payload bytes (DF), then reads
      IP_MTU and `ip route get`; with --ttl-probe also sends a TTL-1 datagram (scapy) to the same
      endpoint from the same port.
  from-lan --server IP --port Q --sport S --payload N [--ttl-probe]
      a LAN host: a UDP socket from S connected to SERVER:Q does the same towards the WAN.
  from-lan ... [--wait S]
      listens S seconds (default 0.6) after the socket's send: a neighbour lookup that fails takes 3.
  check --log FILE --quoted-src IP --quoted-dst IP [--expect frag,ttl,host] [--mtu M] [--outer-src IP]
        [--partial-checksum-ok]
      reads a probe's output: each expected error arrived (frag: fragmentation needed with next-hop
      MTU M; ttl: time exceeded quoting the TTL-1 datagram; host: host unreachable) quoting exactly
      the datagram sent from QUOTED-SRC to QUOTED-DST, every checksum right; with --mtu, the socket
      learned M (IP_MTU and the route);
      prints one line per finding, exits 1 on the first failure. The quoted UDP checksum must be the
      datagram's complete one; with --partial-checksum-ok it may also be the pseudo-header sum a
      local sender over veth leaves (CHECKSUM_PARTIAL), which the kernel quotes as it holds it.
"""

import argparse
import json
import socket
import subprocess
import sys
import time

IP_MTU_DISCOVER, IP_PMTUDISC_DO, IP_MTU = 10, 2, 14
TTL_PROBE_PAYLOAD = 64


def sniffer(interface: str):
    from scapy.sendrecv import AsyncSniffer
    started = []
    s = AsyncSniffer(iface=interface, filter="icmp", store=True, started_callback=lambda: started.append(1))
    s.start()
    deadline = time.time() + 5
    while not started and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    return s


def udp_checksum(src: str, dst: str, sport: int, dport: int, payload: bytes) -> int:
    from scapy.layers.inet import IP, UDP
    return IP(bytes(IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / payload))[UDP].chksum


def pseudo_header_sum(src: str, dst: str, length: int) -> int:
    """What Linux leaves in the UDP checksum field of a CHECKSUM_PARTIAL datagram (a local
    socket's over veth): the pseudo-header's ones' complement sum, folded, not complemented."""
    words = socket.inet_aton(src) + socket.inet_aton(dst) + bytes([0, 17]) + length.to_bytes(2, "big")
    total = sum(int.from_bytes(words[i:i + 2], "big") for i in range(0, len(words), 2))
    while total > 0xffff:
        total = (total & 0xffff) + (total >> 16)
    return total


def describe(packet, sent: dict) -> dict:
    """One received ICMP error; `sent` maps the quoted datagram's total length to what this host
    sent at that length: (src, dst, sport, dport, payload)."""
    from scapy.layers.inet import ICMP, IP, IPerror, UDPerror
    from scapy.utils import checksum
    outer, icmp = packet[IP], packet[ICMP]
    raw_icmp = bytes(icmp)
    d = {"kind": "icmp", "type": icmp.type, "code": icmp.code, "outer_src": outer.src, "outer_dst": outer.dst,
         "icmp_checksum_ok": checksum(raw_icmp) == 0}
    if icmp.type == 3 and icmp.code == 4:
        d["mtu"] = icmp.nexthopmtu
    if IPerror not in packet:
        return d
    quoted = packet[IPerror]
    raw_quoted = raw_icmp[8:]
    ihl = (raw_quoted[0] & 0x0f) * 4
    d.update({"quoted_src": quoted.src, "quoted_dst": quoted.dst, "quoted_ttl": quoted.ttl,
              "quoted_length": quoted.len, "quoted_ip_checksum_ok": checksum(raw_quoted[:ihl]) == 0})
    if UDPerror in packet:
        u = packet[UDPerror]
        d.update({"quoted_sport": u.sport, "quoted_dport": u.dport})
        if quoted.len in sent:
            src, dst, sport, dport, payload = sent[quoted.len]
            d["quote_is_what_was_sent"] = (quoted.src, quoted.dst, u.sport, u.dport) == (src, dst, sport, dport)
            # "partial": the kernel quoted a datagram whose checksum its sender left to be
            # finished (a local socket over veth) and nobody rewrote it on the way.
            d["quoted_udp_checksum"] = ("complete" if u.chksum == udp_checksum(src, dst, sport, dport, payload)
                                        else "partial" if u.chksum == pseudo_header_sum(src, dst, 8 + len(payload))
                                        else f"wrong ({u.chksum:#06x})")
    return d


def probe(s: socket.socket, peer: tuple, payload_size: int, ttl_probe: bool, interface: str,
          wait: float = 0.6) -> int:
    from scapy.layers.inet import IP, UDP
    from scapy.sendrecv import send
    me, sport = s.getsockname()
    s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
    sent = {}
    sniff = sniffer(interface)
    payload = b"P" * payload_size
    try:
        s.send(payload)
        sent[20 + 8 + payload_size] = (me, peer[0], sport, peer[1], payload)
        send_error = ""
    except OSError as e:  # EMSGSIZE: the route already holds a smaller MTU
        send_error = e.strerror
    time.sleep(wait)
    learned = s.getsockopt(socket.IPPROTO_IP, IP_MTU)
    route = subprocess.run(["ip", "route", "get", peer[0]], capture_output=True, text=True).stdout
    if ttl_probe:
        probe_payload = b"T" * TTL_PROBE_PAYLOAD
        send(IP(src=me, dst=peer[0], ttl=1) / UDP(sport=sport, dport=peer[1]) / probe_payload, verbose=False)
        sent[20 + 8 + TTL_PROBE_PAYLOAD] = (me, peer[0], sport, peer[1], probe_payload)
        time.sleep(0.6)
    received = sniff.stop()
    print(json.dumps({"kind": "socket", "local": f"{me}:{sport}", "peer": f"{peer[0]}:{peer[1]}",
                      "sent": payload_size + 28, "send_error": send_error, "ip_mtu": learned,
                      "route": " ".join(route.split())}))
    for packet in received:
        print(json.dumps(describe(packet, sent)))
    return 0


def from_wan(args: argparse.Namespace) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("", args.port))
        print(json.dumps({"kind": "ready"}), flush=True)
        s.settimeout(10)
        _, peer = s.recvfrom(2048)
        s.connect(peer)
        return probe(s, peer, args.payload, args.ttl_probe, args.interface)


def from_lan(args: argparse.Namespace) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("", args.sport))
        s.connect((args.server, args.port))
        return probe(s, (args.server, args.port), args.payload, args.ttl_probe, args.interface, args.wait)


def check(args: argparse.Namespace) -> int:
    lines = [json.loads(line) for line in open(args.log) if line.startswith("{")]
    sock = next((l for l in lines if l["kind"] == "socket"), None)
    if sock is None:
        print(f"FAIL no socket report in {args.log}")
        return 1
    errors = [l for l in lines if l["kind"] == "icmp"]

    def fail(what: str) -> int:
        print(f"FAIL {what}; socket: {json.dumps(sock)}; ICMP received: {json.dumps(errors)}")
        return 1

    kinds = {"frag": ("fragmentation needed", 3, 4), "ttl": ("time exceeded", 11, 0), "host": ("host unreachable", 3, 1)}
    wanted = [kinds[k] for k in args.expect.split(",")]
    for name, type_, code in wanted:
        found = [e for e in errors if e["type"] == type_ and e["code"] == code]
        if not found:
            return fail(f"no {name} arrived")
        e = found[0]
        for key, expected in (("quoted_src", args.quoted_src), ("quoted_dst", args.quoted_dst),
                              ("quote_is_what_was_sent", True), ("icmp_checksum_ok", True),
                              ("quoted_ip_checksum_ok", True)):
            if e.get(key) != expected:
                return fail(f"{name}: {key} is {e.get(key)!r}, expected {expected!r}")
        checksums = ("complete", "partial") if args.partial_checksum_ok else ("complete",)
        if e.get("quoted_udp_checksum") not in checksums:
            return fail(f"{name}: the quoted UDP checksum is {e.get('quoted_udp_checksum')}, expected {checksums}")
        if args.outer_src and e["outer_src"] != args.outer_src:
            return fail(f"{name}: sent from {e['outer_src']}, expected {args.outer_src}")
        if (type_, code) == (3, 4) and e.get("mtu") != args.mtu:
            return fail(f"{name}: next-hop MTU {e.get('mtu')}, expected {args.mtu}")
        if type_ == 11 and e.get("quoted_ttl") != 1:
            return fail(f"{name}: the quoted TTL is {e.get('quoted_ttl')}, expected 1")
        mtu = f", MTU {e['mtu']}" if (type_, code) == (3, 4) else ""
        print(f"ok {name} from {e['outer_src']} quotes {e['quoted_src']}:{e['quoted_sport']} > "
              f"{e['quoted_dst']}:{e['quoted_dport']} exactly as sent{mtu}")
    if args.mtu is None:
        return 0
    if sock["ip_mtu"] != args.mtu or f"mtu {args.mtu}" not in sock["route"]:
        return fail(f"the socket did not learn MTU {args.mtu}")
    print(f"ok the sender's socket learned IP_MTU {sock['ip_mtu']}; route: {sock['route']}")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    w = sub.add_parser("from-wan")
    w.add_argument("--port", type=int, required=True)
    l = sub.add_parser("from-lan")
    l.add_argument("--server", required=True)
    l.add_argument("--port", type=int, required=True)
    l.add_argument("--sport", type=int, required=True)
    l.add_argument("--wait", type=float, default=0.6, help="seconds to listen after the socket's send")
    for s in (w, l):
        s.add_argument("--payload", type=int, required=True)
        s.add_argument("--ttl-probe", action="store_true")
        s.add_argument("--interface", default="eth0")
    c = sub.add_parser("check")
    c.add_argument("--log", required=True)
    c.add_argument("--mtu", type=int)
    c.add_argument("--expect", default="frag")
    c.add_argument("--quoted-src", required=True)
    c.add_argument("--quoted-dst", required=True)
    c.add_argument("--outer-src")
    c.add_argument("--partial-checksum-ok", action="store_true")
    args = p.parse_args()
    return {"from-wan": from_wan, "from-lan": from_lan, "check": check}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
