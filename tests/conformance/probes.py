"""Measurements the RFC checks share: what a WAN host sees of a LAN socket, the timer of a mapping,
crafted fragments. Everything here works the same against gatewayd and against the kernel's
MASQUERADE: timers are read from gatewayctl (gatewayd) or /proc/net/nf_conntrack (the kernel), so a
check never waits a timeout out.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from typing import Iterator

import conformance_api as api
from conformance_api import Host, Lab, fresh_port

# How long a packet that may have been dropped is waited for: the lab's round trip is well under a
# millisecond, so this only has to cover a busy machine's scheduling.
LOSS_WAIT = 1.0

_low_port = 600 + (int(os.environ.get("CONFORMANCE_PORT_BASE", "20000")) // 1000) % 400


_ident = (int(os.environ.get("CONFORMANCE_PORT_BASE", "20000")) * 5) % 0xF000


def fresh_ident() -> int:
    """An IP identification no earlier run used: a receiver keeps an incomplete datagram's
    fragments for 30 s (ipfrag_time), and a stale one with the same ID would spoil the next run's."""
    global _ident
    _ident = (_ident + 1) % 0xFFFF or 1
    return _ident


def low_port() -> int:
    """A source port below 1024 that no earlier run used (each run has its own port block)."""
    global _low_port
    _low_port += 1
    return _low_port


def listener(host: Host, port: int | None = None) -> tuple[socket.socket, int]:
    port = port or fresh_port()
    return host.udp_socket(port), port


def receive(sock: socket.socket, timeout: float = LOSS_WAIT) -> tuple[bytes, tuple[str, int]] | None:
    sock.settimeout(timeout)
    try:
        return sock.recvfrom(65535)
    except (socket.timeout, ConnectionRefusedError):
        return None


def seen_from(sender: socket.socket, receiver: socket.socket, to: tuple[str, int],
              payload: bytes = b"conformance") -> tuple[str, int] | None:
    """Sends `payload` from `sender` to `to`; returns the source `receiver` saw it come from."""
    drain(receiver)
    sender.sendto(payload, to)
    got = receive(receiver)
    return got[1] if got else None


def drain(sock: socket.socket) -> None:
    sock.setblocking(False)
    try:
        while True:
            sock.recvfrom(65535)
    except (BlockingIOError, ConnectionRefusedError):
        pass
    finally:
        sock.setblocking(True)


def external_of(lab: Lab, host: Host, port: int, to_host: Host | None = None) -> tuple[socket.socket, tuple[str, int] | None]:
    """Opens a UDP socket of `host` on `port`, sends to a fresh listener of `to_host` (the WAN host by
    default); returns the socket (kept open: it holds the mapping) and its external endpoint."""
    to_host = to_host or lab.wan
    sock = host.udp_socket(port)
    server, server_port = listener(to_host)
    try:
        return sock, seen_from(sock, server, (to_host.address, server_port))
    finally:
        server.close()


def filtering_observed(lab: Lab, lan_port: int | None = None) -> tuple[str, str]:
    """Opens a mapping (lan1 to wan:q) and probes it from wan:q, wan:q' and wan2; returns
    (behaviour, what was seen): endpoint-independent, address-dependent,
    address-and-port-dependent, or 'broken' when even wan:q's reply did not arrive."""
    port = lan_port or fresh_port()
    sock = lab.lan1.udp_socket(port)
    try:
        server, server_port = listener(lab.wan)
        other, _ = listener(lab.wan)
        far, _ = listener(lab.wan2)
        external = seen_from(sock, server, (lab.wan.address, server_port))
        if external is None:
            return "broken", "the first datagram never reached the WAN host"
        verdicts = {}
        for name, probe in (("same endpoint", server), ("same address, other port", other),
                            ("other address", far)):
            drain(sock)
            probe.sendto(b"probe", external)
            verdicts[name] = receive(sock) is not None
        for s in (server, other, far):
            s.close()
    finally:
        sock.close()
    seen = ", ".join(f"{k}: {'in' if v else 'dropped'}" for k, v in verdicts.items())
    if not verdicts["same endpoint"]:
        return "broken", seen
    if verdicts["other address"]:
        return "endpoint-independent", seen
    if verdicts["same address, other port"]:
        return "address-dependent", seen
    return "address-and-port-dependent", seen


def replacements(lab: Lab, count: int) -> tuple[list[int], list[tuple[str, int] | None]] | None:
    """lan1 sends from `count` consecutive ports (the first even) to a WAN listener and keeps them;
    lan2 sends from the same ports to the same listener, so that even a NAT that tells mappings
    apart by the whole 5-tuple (the kernel) must give lan2 other ports. Returns (ports, lan2's
    external endpoints), or None when lan1 did not get its own ports (someone's mapping had one):
    then nothing was contended, and the caller tries other ports."""
    base = fresh_port() & ~1
    ports = list(range(base, base + count))
    server, server_port = listener(lab.wan)
    held = [lab.lan1.udp_socket(p) for p in ports]
    try:
        if any(seen_from(h, server, (lab.wan.address, server_port)) != (lab.gateway_wan, p)
               for h, p in zip(held, ports)):
            return None
        got = []
        for p in ports:
            sock = lab.lan2.udp_socket(p)
            got.append(seen_from(sock, server, (lab.wan.address, server_port)))
            sock.close()
        return ports, got
    finally:
        server.close()
        for h in held:
            h.close()


def contended_replacements(lab: Lab, count: int) -> tuple[list[int], list[tuple[str, int] | None]]:
    for _ in range(3):
        found = replacements(lab, count)
        if found:
            return found
    raise RuntimeError("lan1 never got its own source ports preserved: nothing to contend")


def parity_kept(lab: Lab) -> tuple[bool, str]:
    """lan1 holds three even and three odd ports; lan2 asks for the same ones towards the same peer:
    are the replacements of the same parity (RFC 4787 REQ-4, RFC 7857 §8)? Six, so that a NAT
    drawing ports at random (the kernel does on a clash) keeps parity by chance once in 64 runs."""
    ports, got = contended_replacements(lab, 6)
    if None in got:
        return False, "a datagram from lan2 was lost"
    text = ", ".join(f"{p} → {e[1]}" for p, e in zip(ports, got))
    if all(e[1] % 2 == p % 2 for p, e in zip(ports, got)):
        return True, f"ports held by lan1 replaced for lan2 with the same parity ({text})"
    return False, f"parity not kept when the port was taken ({text})"


# ---------------------------------------------------------------------------------------------
# Timers: what the NAT itself says is left of a mapping or session


def flows(lab: Lab, proto: str, internal: str) -> list[dict]:
    """The live flows of one LAN endpoint ("ip:port", or "ip" for ICMP): gatewayd's
    `gatewayctl --json flows`, or the kernel's conntrack entries, as dicts with
    seconds_left, state and external_port."""
    if lab.gatewayctl is not None:
        args = ["--json", "flows", "--proto", proto]
        args += ["--internal", internal] if ":" in internal else ["--host", internal]
        return json.loads(lab.gatewayctl(*args))["flows"]
    return _conntrack(lab, proto, internal)


def _conntrack(lab: Lab, proto: str, internal: str) -> list[dict]:
    address, _, port = internal.partition(":")
    found = []
    for line in lab.gw.run("cat", "/proc/net/nf_conntrack").splitlines():
        words = line.split()
        if len(words) < 6 or words[2] != proto:
            continue
        seen: dict[str, list[str]] = {}
        for word in words:
            if "=" in word:
                key, value = word.split("=", 1)
                seen.setdefault(key, []).append(value)
        if seen.get("src", [""])[0] != address or (port and seen.get("sport", [""])[0] != port):
            continue
        reply_dport = seen.get("dport", ["0", "0"])[-1]
        state = words[5] if proto == "tcp" else ""
        found.append({"seconds_left": int(words[4]), "state": state.lower(),
                      "external_port": int(reply_dport)})
    return found


def seconds_left(lab: Lab, proto: str, internal: str) -> int | None:
    """The longest timer among the flows of a LAN endpoint: how long its mapping lives on."""
    found = flows(lab, proto, internal)
    return max(f["seconds_left"] for f in found) if found else None


# ---------------------------------------------------------------------------------------------
# Crafted packets


def udp_datagram(src: str, dst: str, sport: int, dport: int, payload: bytes, ident: int = 0x1234, df: bool = False):
    from scapy.layers.inet import IP, UDP

    return IP(src=src, dst=dst, id=ident, flags="DF" if df else 0) / UDP(sport=sport, dport=dport) / payload


def fragments(packet, size: int = 600) -> list:
    """The fragments of `packet` (scapy IP), in order, each carrying at most `size` bytes of data."""
    from scapy.layers.inet import IP, fragment

    return [IP(bytes(f)) for f in fragment(IP(bytes(packet)), fragsize=size)]


def raw_sender(host: Host) -> socket.socket:
    with host:
        return socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)


def send_all(host: Host, packets: list) -> None:
    sock = raw_sender(host)
    try:
        for p in packets:
            sock.sendto(bytes(p), (p.dst, 0))
    finally:
        sock.close()


@contextlib.contextmanager
def link_mtu(host: Host, interface: str, mtu: int) -> Iterator[None]:
    """Lowers one interface's MTU for the block (a tunnel or PPPoE link), then puts it back."""
    before = int(host.run("cat", f"/sys/class/net/{interface}/mtu").strip())
    host.run("ip", "link", "set", "dev", interface, "mtu", str(mtu))
    try:
        yield
    finally:
        host.run("ip", "link", "set", "dev", interface, "mtu", str(before))


def payload_of(size: int, tag: bytes = b"x") -> bytes:
    return (tag * size)[:size]


def wait_until(predicate, timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def wait_count(cap, where, count: int, timeout: float = LOSS_WAIT) -> list:
    """The packets of capture `cap` that `where` accepts, once there are `count` (or at timeout):
    Capture.wait_for returns at the first, and a capture thread may lag behind the socket that
    already got the whole datagram."""
    wait_until(lambda: len(cap.ip_packets(where)) >= count, timeout)
    return cap.ip_packets(where)


def memo(check):
    """One experiment behind several registered sub-requirements: run once per process (= per run)."""
    results = {}

    def run(lab: Lab):
        if "value" not in results:
            results["value"] = check(lab)
        return results["value"]

    return run


__all__ = ["api"]
