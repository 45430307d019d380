"""What every RFC conformance check (tests/conformance/rfc*.py) is written against.

A check is a function taking a Lab and returning an Outcome, registered with @requirement. It runs
in ONE python process (/usr/bin/python3, as root) that reaches every lab host by switching its
thread's network namespace (setns) around the creation of a socket: a socket stays in the namespace
it was created in, so `with lab.lan1: s = socket(...)` makes a LAN host's socket, usable afterwards
from anywhere. Threads started inside the block (a capture) live in that namespace too.

Never use scapy's send()/sr()/sniff(): they route and pick interfaces by the tables scapy read at
import time, in the root namespace. Build packets with scapy, turn them into bytes, and send them
with Host.send_ip (a raw IP socket of the host: its own kernel routes it) or Host.send_frame;
receive with Host.capture(), which parses what arrived with scapy.

The lab is the three-role one of tests/lab/lab.sh (lab_up --lan-hosts 2 --wan2): LAN hosts lan1
and lan2 behind the gateway, the WAN host `wan` (the ISP's router, 203.0.113.2) and `wan2`
(198.51.100.2) behind it. Their namespaces come from the environment (CONFORMANCE_NS_<ROLE>).

Measurements several checks share (what a WAN host sees of a LAN socket, the timer the NAT says a
mapping has left, crafted fragments, an MTU lowered for a block) are in probes.py; the sheet and
the verdict in sheet.py; tests/integration/rfc_conformance.sh runs it all.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import os
import shlex
import socket
import threading
import time
from typing import Callable, Iterator

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)

PASS, FAIL, NA = "PASS", "FAIL", "N/A"


@dataclasses.dataclass
class Outcome:
    status: str  # PASS, FAIL or N/A
    detail: str  # what was seen, one sentence: the sheet prints it


def passed(detail: str) -> Outcome:
    return Outcome(PASS, detail)


def failed(detail: str) -> Outcome:
    return Outcome(FAIL, detail)


def not_applicable(reason: str) -> Outcome:
    return Outcome(NA, reason)


@dataclasses.dataclass
class Requirement:
    rfc: str      # "RFC 4787"
    req: str      # "REQ-1", "REQ-2a", "§9"
    level: str    # MUST, SHOULD, MAY, RECOMMENDED ...
    title: str    # a few words
    check: Callable[["Lab"], Outcome]
    # The filtering modes it is run under; None: run once per target whatever the mode.
    per_filtering_mode: bool = False


REGISTRY: list[Requirement] = []


def requirement(rfc: str, req: str, level: str, title: str, per_filtering_mode: bool = False):
    """Registers the decorated check: `@requirement("RFC 4787", "REQ-1", "MUST", "Endpoint-independent mapping")`."""

    def register(check: Callable[["Lab"], Outcome]):
        # One check per requirement: the sheet has one row for it (a second would hide the first).
        if any(r.rfc == rfc and r.req == req for r in REGISTRY):
            raise ValueError(f"{rfc} {req} is registered twice")
        REGISTRY.append(Requirement(rfc, req, level, title, check, per_filtering_mode))
        return check

    return register


@contextlib.contextmanager
def in_namespace(name: str) -> Iterator[None]:
    """Sockets and threads created inside belong to network namespace `name` (/run/netns/NAME)."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns into {name}: {os.strerror(err)}")
        yield
    finally:
        _libc.setns(own, CLONE_NEWNET)
        os.close(own)
        os.close(target)


class Capture:
    """Every frame arriving on (not sent by) one host's interface while it runs, as scapy packets."""

    def __init__(self, host: "Host"):
        self.host = host
        self.frames: list = []
        self._stop = threading.Event()
        with host:
            self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
            self._sock.bind((host.interface, 0))
        self._sock.settimeout(0.05)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from scapy.layers.l2 import Ether

        while not self._stop.is_set():
            try:
                data, address = self._sock.recvfrom(65535)
            except socket.timeout:
                continue
            if address[2] == socket.PACKET_OUTGOING:
                continue
            self.frames.append(Ether(data))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()

    def ip_packets(self, where: Callable | None = None) -> list:
        """The IPv4 packets that arrived (scapy IP layers), those `where(pkt)` accepts."""
        from scapy.layers.inet import IP

        packets = [f[IP] for f in list(self.frames) if IP in f]
        return [p for p in packets if where is None or where(p)]

    def wait_for(self, where: Callable, timeout: float = 2.0) -> list:
        """Waits until a packet `where` accepts arrived (or timeout); returns all such packets."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.ip_packets(where)
            if found:
                return found
            time.sleep(0.02)
        return self.ip_packets(where)


@dataclasses.dataclass
class Host:
    role: str           # lan1, lan2, wan, wan2, gw
    namespace: str
    address: str        # its IPv4 address on the lab
    interface: str = "eth0"

    def __enter__(self):
        self._ns = in_namespace(self.namespace)
        self._ns.__enter__()
        return self

    def __exit__(self, *exc):
        return self._ns.__exit__(*exc)

    def udp_socket(self, port: int = 0, address: str | None = None) -> socket.socket:
        with self:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((address or self.address, port))
        s.settimeout(1.0)
        return s

    def tcp_socket(self, port: int = 0) -> socket.socket:
        with self:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((self.address, port))
        s.settimeout(2.0)
        return s

    def send_ip(self, packet) -> None:
        """Sends a scapy IP packet (or its bytes) as is, routed by this host's kernel."""
        data = bytes(packet)
        with self:
            s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        try:
            from scapy.layers.inet import IP

            s.sendto(data, (IP(data).dst, 0))
        finally:
            s.close()

    def send_frame(self, frame) -> None:
        """Sends a scapy Ether frame (or bytes) on this host's interface untouched."""
        with self:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind((self.interface, 0))
        try:
            s.send(bytes(frame))
        finally:
            s.close()

    @contextlib.contextmanager
    def capture(self) -> Iterator[Capture]:
        cap = Capture(self)
        try:
            yield cap
        finally:
            cap.stop()

    def run(self, *argv: str, timeout: float = 10.0) -> str:
        """Runs a command in this host's namespace; returns its stdout; raises on failure."""
        import subprocess

        done = subprocess.run(["ip", "netns", "exec", self.namespace, *argv], capture_output=True,
                              text=True, timeout=timeout, check=True)
        return done.stdout


@dataclasses.dataclass
class Lab:
    target: str          # "gatewayd" or "kernel"
    filtering: str       # gatewayd's firewall.filtering as the config spells it, "kernel" for MASQUERADE
    gateway_wan: str     # the gateway's WAN address (what LAN hosts are translated to)
    gateway_lan: str
    lan1: Host
    lan2: Host
    wan: Host
    wan2: Host
    gw: Host
    # gatewayctl ARGS... run in the gateway's namespace, its stdout (None for the kernel).
    gatewayctl: Callable[..., str] | None = None

    @staticmethod
    def from_environment() -> "Lab":
        env = os.environ

        def host(role: str, address_key: str, interface: str = "eth0") -> Host:
            return Host(role, env[f"CONFORMANCE_NS_{role.upper()}"], env[address_key], interface)

        gw = host("gw", "LAB_GW_WAN_IP", "wan0")
        # CONFORMANCE_GATEWAYCTL: the command line that reaches the daemon ("gatewayctl --socket S").
        ctl_prefix = shlex.split(env.get("CONFORMANCE_GATEWAYCTL", ""))
        return Lab(
            target=env["CONFORMANCE_TARGET"],
            # The config's spelling (endpoint-independent ...), whichever the driver used.
            filtering=env["CONFORMANCE_FILTERING"].replace("_", "-"),
            gateway_wan=env["LAB_GW_WAN_IP"],
            gateway_lan=env["LAB_GW_LAN_IP"],
            lan1=host("lan1", "CONFORMANCE_LAN1_IP"),
            lan2=host("lan2", "CONFORMANCE_LAN2_IP"),
            wan=host("wan", "LAB_WAN_IP"),
            wan2=host("wan2", "LAB_WAN2_IP"),
            gw=gw,
            gatewayctl=(lambda *args: gw.run(*ctl_prefix, *args)) if ctl_prefix else None,
        )


# Each run (one target, one filtering mode) gets its own port block from the runner, since one
# gatewayd serves several modes in turn and its mappings outlive a run.
_port_counter = iter(range(int(os.environ.get("CONFORMANCE_PORT_BASE", "20000")), 65000, 7))


def fresh_port() -> int:
    """A source port no earlier check used, so checks never see each other's mappings."""
    return next(_port_counter)
