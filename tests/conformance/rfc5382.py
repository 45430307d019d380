"""RFC 5382 (NAT behavioral requirements for TCP), REQ-1 to REQ-10: one check per requirement.

Numbering is the RFC's own (section 8, "Requirements"): REQ-1 endpoint-independent mapping, REQ-2
all valid TCP sequences (simultaneous open), REQ-3 filtering, REQ-4 unsolicited SYNs, REQ-5 idle
timeouts, REQ-6 ALGs off by default, REQ-7 no port overloading, REQ-8 hairpinning, REQ-9 ICMP
destination unreachable translated, REQ-10 no ICMP message tears a connection down.

Real sockets of the lab's hosts make the connections (their kernels do TCP); scapy builds the
crafted packets (unsolicited SYNs, ICMP errors), sent with Host.send_ip and seen with Host.capture().
A check learns a LAN endpoint's external port from what a WAN listener's accept() returns.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import time

from conformance_api import Lab, failed, fresh_port, passed, requirement

RFC = "RFC 5382"

ESTABLISHED_MINIMUM = 2 * 3600 + 4 * 60  # REQ-5: 2 h 4 min
TRANSITORY_MINIMUM = 4 * 60


# ---------------------------------------------------------------------------------------------
# Sockets of the lab's hosts


def tcp_socket(host, port: int, reuseport: bool = False) -> socket.socket:
    """A TCP socket of `host` bound to port; SO_REUSEPORT lets a listener share the port."""
    with host:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuseport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((host.address, port))
    s.settimeout(3.0)
    return s


def listener(host, port: int, reuseport: bool = False) -> socket.socket:
    s = tcp_socket(host, port, reuseport)
    s.listen(8)
    return s


def connect_through(host, port: int, listening: socket.socket, to: tuple[str, int],
                    reuseport: bool = False) -> tuple[socket.socket, socket.socket, int]:
    """host:port connects to `to` (where `listening` listens): (client, server side, external port)."""
    client = tcp_socket(host, port, reuseport)
    client.connect(to)
    server, (_, external_port) = listening.accept()
    server.settimeout(3.0)
    return client, server, external_port


def start_connect(s: socket.socket, to: tuple[str, int]) -> None:
    s.setblocking(False)
    s.connect_ex(to)


def wait_connected(s: socket.socket, timeout: float) -> bool:
    """Whether a non-blocking connect completed (writable and no error) within timeout."""
    _, writable, _ = select.select([], [s], [], timeout)
    if not writable:
        return False
    if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
        return False
    try:
        s.getpeername()
    except OSError:
        return False
    s.setblocking(True)
    s.settimeout(3.0)
    return True


def exchanges_data(a: socket.socket, b: socket.socket) -> bool:
    """Bytes go a -> b and b -> a."""
    try:
        a.sendall(b"ping-5382")
        if b.recv(64) != b"ping-5382":
            return False
        b.sendall(b"pong-5382")
        return a.recv(64) == b"pong-5382"
    except OSError:
        return False


class Sockets(contextlib.ExitStack):
    """Closes every socket handed to keep() at the end of a check."""

    def keep(self, *sockets):
        for s in sockets:
            if s is not None:
                self.callback(s.close)
        return sockets[0] if len(sockets) == 1 else sockets


def gateway_flows(lab: Lab, *selectors: str) -> list[dict]:
    return json.loads(lab.gatewayctl("--json", "flows", *selectors))["flows"]


def kernel_sysctl(lab: Lab, name: str) -> int:
    return int(lab.gw.run("cat", f"/proc/sys/net/netfilter/{name}").strip())


def scapy_inet():
    from scapy.layers.inet import ICMP, IP, TCP, TCPerror, IPerror

    return IP, TCP, ICMP, IPerror, TCPerror


# ---------------------------------------------------------------------------------------------
# The checks


@requirement(RFC, "REQ-1", "MUST", "Endpoint-independent mapping for TCP")
def endpoint_independent_mapping(lab: Lab):
    # lan2 takes lan1's source port first, so the NAT cannot keep it: the mapping it makes for
    # lan1 must still be one, whatever the destination.
    p, a, a2, b = fresh_port(), fresh_port(), fresh_port(), fresh_port()
    with Sockets() as keep:
        la, la2 = keep.keep(listener(lab.wan, a), listener(lab.wan, a2))
        lb = keep.keep(listener(lab.wan2, b))
        keep.keep(*connect_through(lab.lan2, p, la, (lab.wan.address, a))[:2])
        seen = {}
        for name, (lst, to) in {"wan:A": (la, (lab.wan.address, a)), "wan2:B": (lb, (lab.wan2.address, b)),
                                "wan:A2": (la2, (lab.wan.address, a2))}.items():
            client, server, external = connect_through(lab.lan1, p, lst, to)
            keep.keep(client, server)
            seen[name] = external
    detail = ", ".join(f"{k} saw port {v}" for k, v in seen.items())
    if len(set(seen.values())) == 1:
        return passed(f"lan1:{p} (its port held by lan2) kept one external port to three destinations: {detail}")
    return failed(f"lan1:{p} (its port held by lan2) got a mapping per destination: {detail}")


@requirement(RFC, "REQ-2", "MUST", "All valid TCP sequences: simultaneous open, LAN SYN or WAN SYN first",
             per_filtering_mode=True)
def simultaneous_open(lab: Lab):
    lan_first = _simultaneous_open_lan_first(lab)
    wan_first = _simultaneous_open_wan_first(lab)
    detail = f"LAN SYN first: {lan_first[1]}; WAN SYN first: {wan_first[1]}"
    return passed(detail) if lan_first[0] and wan_first[0] else failed(detail)


def _simultaneous_open_lan_first(lab: Lab) -> tuple[bool, str]:
    # lan1's SYN reaches wan2, whose own firewall drops it (the peer's NAT does that in a hole
    # punch; a TTL too short to arrive would not do: the Time Exceeded aborts lan1's SYN-SENT);
    # then wan2 connects to lan1's external endpoint: its SYN must reach lan1, in SYN-SENT.
    IP, TCP, *_ = scapy_inet()
    p, b = fresh_port(), fresh_port()
    drop = ["INPUT", "-p", "tcp", "--dport", str(b), "--tcp-flags", "SYN,ACK", "SYN", "-j", "DROP"]
    lab.wan2.run("iptables", "-I", *drop)
    try:
        with Sockets() as keep:
            lan = keep.keep(tcp_socket(lab.lan1, p))
            with lab.wan2.capture() as cap:
                start_connect(lan, (lab.wan2.address, b))
                syns = cap.wait_for(lambda q: TCP in q and q[TCP].dport == b and q.src == lab.gateway_wan)
            if not syns:
                return False, "lan1's SYN never left the gateway"
            external = syns[0][TCP].sport
            wan = keep.keep(tcp_socket(lab.wan2, b))
            start_connect(wan, (lab.gateway_wan, external))
            lab.wan2.run("iptables", "-D", *drop)
            if not (wait_connected(wan, 4.0) and wait_connected(lan, 1.0)):
                return False, f"wan2:{b} -> {lab.gateway_wan}:{external} never completed the open"
            if not exchanges_data(lan, wan):
                return False, "the connection opened but carried no data"
            return True, f"opened through port {external} and carried data"
    finally:
        lab.wan2.run("sh", "-c", "iptables " + " ".join(["-D"] + drop) + " 2>/dev/null || true")


def _connect_and_learn(lab: Lab, keep: Sockets, host, port: int, rendezvous: socket.socket,
                       to: tuple[str, int], reuseport: bool = False) -> int:
    client, server, external = connect_through(host, port, rendezvous, to, reuseport)
    keep.keep(client, server)
    return external


def _simultaneous_open_wan_first(lab: Lab) -> tuple[bool, str]:
    # lan1's mapping exists already (a connection to wan, the rendezvous); wan2's SYN reaches it
    # before lan1's. A listener on lan1's port stands for an application that takes the
    # connection either way, so that under endpoint-independent filtering, where the NAT lets the
    # first SYN in, lan1's kernel answers it instead of resetting it.
    p, a, b = fresh_port(), fresh_port(), fresh_port()
    with Sockets() as keep:
        rendezvous = keep.keep(listener(lab.wan, a))
        external = _connect_and_learn(lab, keep, lab.lan1, p, rendezvous, (lab.wan.address, a), reuseport=True)
        lan_listener = keep.keep(listener(lab.lan1, p, reuseport=True))
        wan = keep.keep(tcp_socket(lab.wan2, b))
        start_connect(wan, (lab.gateway_wan, external))
        time.sleep(0.3)
        lan = keep.keep(tcp_socket(lab.lan1, p, reuseport=True))
        start_connect(lan, (lab.wan2.address, b))
        if not wait_connected(wan, 4.0):
            return False, f"wan2's SYN to {lab.gateway_wan}:{external} (sent first) never led to a connection"
        lan_end = lan if wait_connected(lan, 1.0) else None
        if lan_end is None:
            lan_listener.settimeout(1.0)
            try:
                lan_end = keep.keep(lan_listener.accept()[0])
            except OSError:
                return False, "wan2 saw the open complete but lan1 has no connection"
        if not exchanges_data(lan_end, wan):
            return False, "the connection opened but carried no data"
        how = "by lan1's own SYN" if lan_end is lan else "as an inbound connection"
        return True, f"opened through port {external} ({how}) and carried data"


@requirement(RFC, "REQ-3", "RECOMMENDED", "Endpoint-independent or address-dependent filtering (configurable)",
             per_filtering_mode=True)
def filtering(lab: Lab):
    # Measures the TCP filtering: unsolicited SYNs to lan1's mapping from another port of the
    # host it talks to, and from another host. REQ-3a lets the administrator choose: the check
    # passes when the NAT filters as configured and the recommended behaviours are on offer.
    IP, TCP, *_ = scapy_inet()
    p, a, a2, b = fresh_port(), fresh_port(), fresh_port(), fresh_port()
    with Sockets() as keep:
        rendezvous = keep.keep(listener(lab.wan, a))
        external = _connect_and_learn(lab, keep, lab.lan1, p, rendezvous, (lab.wan.address, a))
        with lab.lan1.capture() as cap:
            lab.wan.send_ip(IP(src=lab.wan.address, dst=lab.gateway_wan) / TCP(sport=a2, dport=external, flags="S", seq=3001))
            lab.wan2.send_ip(IP(src=lab.wan2.address, dst=lab.gateway_wan) / TCP(sport=b, dport=external, flags="S", seq=3002))
            time.sleep(1.0)
            arrived = {q[TCP].seq for q in cap.ip_packets(lambda q: TCP in q and q[TCP].dport == p and q[TCP].flags.S)}
    measured = ("endpoint-independent" if 3002 in arrived and 3001 in arrived else
                "address-dependent" if 3001 in arrived and 3002 not in arrived else
                "address-and-port-dependent" if not arrived else "inconsistent (other host in, same host out)")
    if lab.target == "kernel":
        if measured in ("endpoint-independent", "address-dependent"):
            return passed(f"measured {measured} filtering for TCP")
        return failed(f"measured {measured} filtering for TCP, neither recommended behaviour, and MASQUERADE offers no other")
    configured = lab.filtering
    if measured != configured:
        return failed(f"configured {configured} but measured {measured} filtering for TCP")
    if measured == "address-and-port-dependent":
        return passed("measured address-and-port-dependent filtering as configured (REQ-3a: the administrator's "
                      "choice; the recommended endpoint-independent and address-dependent are firewall.filtering values)")
    return passed(f"measured {measured} filtering for TCP, as configured")


@requirement(RFC, "REQ-4", "MUST", "Unsolicited SYN: no answer for 6 s, dropped if an outbound SYN follows",
             per_filtering_mode=True)
def unsolicited_syn(lab: Lab):
    # (i) a SYN to an external port no mapping holds: nothing may answer it for 6 s (then an ICMP
    # port unreachable, or silence where the security policy drops it: REQ-4a).
    # (ii) where the filtering makes a SYN to lan1's mapping unsolicited (not endpoint-independent):
    # lan1's own SYN to that peer follows within the 6 s, so the first SYN must be dropped silently,
    # never delivered to lan1 nor answered.
    IP, TCP, ICMP, IPerror, TCPerror = scapy_inet()
    unmapped, b1, b2, p, a = fresh_port(), fresh_port(), fresh_port(), fresh_port(), fresh_port()
    second_part = lab.filtering != "endpoint-independent"
    with Sockets() as keep:
        rendezvous = keep.keep(listener(lab.wan, a))
        external = _connect_and_learn(lab, keep, lab.lan1, p, rendezvous, (lab.wan.address, a))
        with lab.wan2.capture() as wan2_cap, lab.lan1.capture() as lan_cap:
            sent = time.monotonic()
            sent_wall = time.time()
            lab.wan2.send_ip(IP(src=lab.wan2.address, dst=lab.gateway_wan) / TCP(sport=b1, dport=unmapped, flags="S", seq=4001))
            if second_part:
                lab.wan2.send_ip(IP(src=lab.wan2.address, dst=lab.gateway_wan) / TCP(sport=b2, dport=external, flags="S", seq=4002))
                time.sleep(0.5)
                lab.lan1.send_ip(IP(src=lab.lan1.address, dst=lab.wan2.address) / TCP(sport=p, dport=b2, flags="S", seq=4003))
            answers = []  # (seconds after the SYN, what)
            while time.monotonic() - sent < 6.5:
                time.sleep(0.1)
            for q in wan2_cap.ip_packets(lambda q: q.src == lab.gateway_wan):
                at = float(q.time) - sent_wall
                if TCP in q and q[TCP].sport == unmapped:
                    answers.append((at, "unmapped", f"TCP {q[TCP].flags}"))
                elif TCP in q and q[TCP].sport == external and q[TCP].dport == b2 and not q[TCP].flags.S:
                    answers.append((at, "mapped", f"TCP {q[TCP].flags}"))
                elif ICMP in q and TCPerror in q:
                    which = "unmapped" if q[TCPerror].dport == unmapped else "mapped" if q[TCPerror].dport == external else None
                    if which:
                        answers.append((at, which, f"ICMP {q[ICMP].type}/{q[ICMP].code}"))
            delivered = lan_cap.ip_packets(lambda q: TCP in q and q[TCP].seq == 4002)
    early = [x for x in answers if x[0] < 6.0]
    if early:
        return failed(f"answered an unsolicited SYN within 6 s: {early[0][2]} after {early[0][0]:.1f} s "
                      f"({'no mapping' if early[0][1] == 'unmapped' else 'to lan1`s mapping'})")
    if second_part and delivered:
        return failed("the held unsolicited SYN reached lan1 although lan1's own SYN to the peer went out")
    if second_part and any(x[1] == "mapped" for x in answers):
        return failed("answered the unsolicited SYN to lan1's mapping although lan1's own SYN followed")
    late = [x for x in answers if x[1] == "unmapped"]
    first = (f"an unsolicited SYN got {late[0][2]} after {late[0][0]:.1f} s" if late else
             "an unsolicited SYN got no answer in 6.5 s (REQ-4a: the inbound policy drops it)")
    if second_part:
        first += "; one followed by lan1's own SYN was dropped silently"
    else:
        first += " (endpoint-independent filtering: a SYN to a mapping is not unsolicited)"
    return passed(first)


@requirement(RFC, "REQ-5", "MUST", "Idle timeouts: established >= 2 h 4 min, transitory >= 4 min")
def idle_timeouts(lab: Lab):
    if lab.target == "kernel":
        established = kernel_sysctl(lab, "nf_conntrack_tcp_timeout_established")
        transitory = {n: kernel_sysctl(lab, f"nf_conntrack_tcp_timeout_{n}")
                      for n in ("syn_sent", "syn_recv", "fin_wait", "close_wait", "last_ack", "time_wait")}
        shortest = min(transitory, key=transitory.get)
        detail = (f"established {established} s, shortest transitory {shortest} {transitory[shortest]} s "
                  "(the gateway's nf_conntrack sysctls)")
        ok = established >= ESTABLISHED_MINIMUM and transitory[shortest] >= TRANSITORY_MINIMUM
        return passed(detail) if ok else failed(detail)
    if lab.gatewayctl is None:
        return failed("no gatewayctl to read the flows' timeouts with")
    IP, TCP, *_ = scapy_inet()
    p, a, p2, b, p3 = fresh_port(), fresh_port(), fresh_port(), fresh_port(), fresh_port()
    with Sockets() as keep:
        rendezvous = keep.keep(listener(lab.wan, a))
        _connect_and_learn(lab, keep, lab.lan1, p, rendezvous, (lab.wan.address, a))
        # Closing: lan1 sends its FIN, the other end does not close yet.
        closing, closing_server, _ = connect_through(lab.lan1, p3, rendezvous, (lab.wan.address, a))
        keep.keep(closing, closing_server)
        closing.shutdown(socket.SHUT_WR)
        # Half-open: the SYN dies at the ISP router (TTL 2), so nothing answers it.
        lab.lan1.send_ip(IP(src=lab.lan1.address, dst=lab.wan2.address, ttl=2) / TCP(sport=p2, dport=b, flags="S"))
        time.sleep(0.3)
        flows = {name: gateway_flows(lab, "--proto", "tcp", "--internal", f"{lab.lan1.address}:{port}")
                 for name, port in (("established", p), ("half-open", p2), ("closing", p3))}
    missing = [name for name, found in flows.items() if not found]
    if missing:
        return failed(f"flows not found: {', '.join(missing)}")
    left = {name: found[0]["seconds_left"] for name, found in flows.items()}
    states = {name: found[0]["state"] for name, found in flows.items()}
    detail = ", ".join(f"{name} ({states[name]}) {left[name]} s left" for name in left)
    # Read right after a packet: at most a second has passed.
    ok = (left["established"] >= ESTABLISHED_MINIMUM - 1 and left["half-open"] >= TRANSITORY_MINIMUM - 1
          and left["closing"] >= TRANSITORY_MINIMUM - 1)
    return passed(detail) if ok else failed(detail)


@requirement(RFC, "REQ-6", "RECOMMENDED", "TCP ALGs (but FTP's) off by default")
def no_alg(lab: Lab):
    # SIP on TCP 5060 and an IRC DCC offer on 6667 carry lan1's address: an ALG would rewrite them.
    lan_ip = lab.lan1.address
    ip_number = int.from_bytes(socket.inet_aton(lan_ip), "big")
    payloads = {
        5060: (f"INVITE sip:peer@{lab.wan.address} SIP/2.0\r\nVia: SIP/2.0/TCP {lan_ip}:5060\r\n"
               f"Contact: <sip:me@{lan_ip}:5060>\r\nContent-Length: 0\r\n\r\n").encode(),
        6667: f"PRIVMSG peer :\x01DCC SEND file {ip_number} 5000 100\x01\r\n".encode(),
    }
    rewritten = []
    with Sockets() as keep:
        for port, payload in payloads.items():
            server_side = keep.keep(listener(lab.wan, port))
            client, server, _ = connect_through(lab.lan1, fresh_port(), server_side, (lab.wan.address, port))
            keep.keep(client, server)
            client.sendall(payload)
            got = b""
            while len(got) < len(payload):
                try:
                    chunk = server.recv(4096)
                except OSError:
                    break
                if not chunk:
                    break
                got += chunk
            if got != payload:
                rewritten.append(port)
    if rewritten:
        return failed(f"payloads on TCP port(s) {rewritten} arrived changed: an ALG is on")
    return passed("SIP (TCP 5060) and IRC DCC (TCP 6667) messages carrying the LAN address arrived byte for byte")


@requirement(RFC, "REQ-7", "MUST", "No port overloading for TCP")
def no_port_overloading(lab: Lab):
    # Two LAN hosts, the same source port, different destinations: overloading would give both
    # the same external port, told apart only by the remote end.
    p, a, b = fresh_port(), fresh_port(), fresh_port()
    with Sockets() as keep:
        la, lb = keep.keep(listener(lab.wan, a), listener(lab.wan2, b))
        e1 = _connect_and_learn(lab, keep, lab.lan1, p, la, (lab.wan.address, a))
        e2 = _connect_and_learn(lab, keep, lab.lan2, p, lb, (lab.wan2.address, b))
    if e1 == e2:
        return failed(f"lan1:{p} and lan2:{p} both left as external port {e1} (port overloading)")
    return passed(f"lan1:{p} and lan2:{p} left as external ports {e1} and {e2}")


@requirement(RFC, "REQ-8", "MUST", "Hairpinning for TCP, external source address and port",
             per_filtering_mode=True)
def hairpinning(lab: Lab):
    # Two LAN hosts with mappings (each talked to wan) open a connection to each other's external
    # endpoint as two peers behind one NAT do: lan2 first (its SYN punches lan2's filter, lan1's
    # may drop it), then lan1. Each keeps a listener on its port too, so a SYN the NAT lets
    # straight in is answered rather than reset. Each end must see the other's external endpoint.
    p, q, a = fresh_port(), fresh_port(), fresh_port()
    with Sockets() as keep:
        rendezvous = keep.keep(listener(lab.wan, a))
        e1 = _connect_and_learn(lab, keep, lab.lan1, p, rendezvous, (lab.wan.address, a), reuseport=True)
        e2 = _connect_and_learn(lab, keep, lab.lan2, q, rendezvous, (lab.wan.address, a), reuseport=True)
        l1, l2 = keep.keep(listener(lab.lan1, p, reuseport=True), listener(lab.lan2, q, reuseport=True))
        s2 = keep.keep(tcp_socket(lab.lan2, q, reuseport=True))
        start_connect(s2, (lab.gateway_wan, e1))
        time.sleep(0.3)
        s1 = keep.keep(tcp_socket(lab.lan1, p, reuseport=True))
        start_connect(s1, (lab.gateway_wan, e2))
        ends = []
        for s, lst, wait in ((s1, l1, 3.0), (s2, l2, 1.0)):
            if wait_connected(s, wait):
                ends.append(s)
                continue
            lst.settimeout(0.5)
            try:
                ends.append(keep.keep(lst.accept()[0]))
            except OSError:
                ends.append(None)
        if None in ends:
            return failed(f"no connection between lan1 (external {e1}) and lan2 (external {e2}) through "
                          f"{lab.gateway_wan}: {'lan1' if ends[0] is None else 'lan2'} has none")
        peers = [s.getpeername() for s in ends]
        expected = [(lab.gateway_wan, e2), (lab.gateway_wan, e1)]
        if peers != expected:
            return failed(f"hairpinned, but the ends see {peers}, not the external endpoints {expected}")
        if not exchanges_data(ends[0], ends[1]):
            return failed("the hairpinned connection opened but carried no data")
    return passed(f"lan1 and lan2 connected through {lab.gateway_wan}, each seeing the other's external "
                  f"endpoint ({e1} and {e2}), and exchanged data")


def _quoted(lab: Lab, external: int, remote: tuple[str, int], seq: int) -> bytes:
    """The first 28 bytes of the TCP segment a router beyond the NAT would quote in an error."""
    IP, TCP, *_ = scapy_inet()
    return bytes(IP(src=lab.gateway_wan, dst=remote[0], ttl=1) / TCP(sport=external, dport=remote[1], flags="S", seq=seq))[:28]


@requirement(RFC, "REQ-9", "SHOULD", "ICMP destination unreachable translated for TCP")
def icmp_unreachable_translated(lab: Lab):
    # lan1's SYN dies at the ISP router (TTL 2); the router then reports destination unreachable
    # (host unreachable, then fragmentation needed) about the translated SYN.
    IP, TCP, ICMP, IPerror, TCPerror = scapy_inet()
    p, b = fresh_port(), fresh_port()
    with lab.wan.capture() as cap:
        lab.lan1.send_ip(IP(src=lab.lan1.address, dst=lab.wan2.address, ttl=2) / TCP(sport=p, dport=b, flags="S", seq=5001))
        syns = cap.wait_for(lambda q: TCP in q and q[TCP].seq == 5001 and q.src == lab.gateway_wan)
    if not syns:
        return failed("lan1's SYN never left the gateway")
    external = syns[0][TCP].sport
    quoted = _quoted(lab, external, (lab.wan2.address, b), 5001)
    results = []
    with lab.lan1.capture() as cap:
        for code, extra in ((1, {}), (4, {"nexthopmtu": 1280})):
            lab.wan.send_ip(IP(src=lab.wan.address, dst=lab.gateway_wan) / ICMP(type=3, code=code, **extra) / quoted)
        time.sleep(0.8)
        for code in (1, 4):
            got = [q for q in cap.ip_packets(lambda q: ICMP in q and q[ICMP].type == 3 and q[ICMP].code == code
                                             and TCPerror in q)]
            ok = any(q.dst == lab.lan1.address and q[IPerror].src == lab.lan1.address and q[TCPerror].sport == p
                     and q[IPerror].dst == lab.wan2.address and q[TCPerror].dport == b for q in got)
            results.append((code, ok, got))
    bad = [r for r in results if not r[1]]
    if bad:
        code, _, got = bad[0]
        seen = (f"arrived quoting {got[0][IPerror].src}:{got[0][TCPerror].sport}" if got else "never reached lan1")
        return failed(f"destination unreachable code {code} about lan1's SYN {seen}")
    return passed("destination unreachable (host unreachable, fragmentation needed) about lan1's SYN reached lan1 "
                  f"quoting {lab.lan1.address}:{p}, type and code unchanged")


@requirement(RFC, "REQ-10", "MUST", "No ICMP message terminates the mapping or the connection")
def icmp_does_not_terminate(lab: Lab):
    IP, TCP, ICMP, *_ = scapy_inet()
    p, a = fresh_port(), fresh_port()
    with Sockets() as keep:
        rendezvous = keep.keep(listener(lab.wan, a))
        with lab.wan.capture() as cap:
            client, server, external = connect_through(lab.lan1, p, rendezvous, (lab.wan.address, a))
            keep.keep(client, server)
            client.sendall(b"x")
            server.recv(8)
            sent = cap.wait_for(lambda q: TCP in q and q.src == lab.gateway_wan and q[TCP].dport == a
                                and len(q[TCP].payload) > 0)
        if not sent:
            return failed("lan1's data never reached wan")
        # The segment as the WAN saw it, its sequence number moved to the next byte lan1 sends
        # (everything is acknowledged): a quote out of the window is rightly dropped.
        segment = sent[-1].copy()
        segment[TCP].seq += len(segment[TCP].payload)
        del segment[IP].chksum, segment[TCP].chksum
        quoted = bytes(segment)[:28]
        kinds = [(3, 0), (3, 1), (3, 3), (3, 13), (11, 0), (12, 0), (4, 0)]
        with lab.lan1.capture() as cap:
            for t, c in kinds:
                lab.wan.send_ip(IP(src=lab.wan.address, dst=lab.gateway_wan) / ICMP(type=t, code=c) / quoted)
            time.sleep(0.5)
            forwarded = len(cap.ip_packets(lambda q: ICMP in q and q.dst == lab.lan1.address and q[ICMP].type in (3, 4, 11, 12)))
        if not exchanges_data(client, server):
            return failed("after ICMP errors about it (unreachable 0/1/3/13, time exceeded, parameter problem, "
                          f"source quench; {forwarded} of {len(kinds)} forwarded to lan1) the connection carried no data")
    return passed("after ICMP unreachable (net, host, port, prohibited), time exceeded, parameter problem and "
                  f"source quench about it ({forwarded} of {len(kinds)} forwarded to lan1), the connection still "
                  "carried data both ways")
