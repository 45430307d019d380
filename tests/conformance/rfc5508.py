"""RFC 5508 (NAT behavioral requirements for ICMP), REQ-1 to REQ-11: one check per requirement.

Numbering is the RFC's own (section 10, summary): REQ-1 ICMP queries from the LAN, mapped
endpoint-independently (1a); REQ-2 query timeout >= 60 s; REQ-3 checksums of ICMP errors (3a: the
quoted IP header's; 3b: quoted IP options traversed; 3c: the quoted transport checksum not checked);
REQ-4 errors from the WAN translated, or dropped without a mapping; REQ-5 the same from the LAN;
REQ-6 errors about a query session neither refresh nor delete it; REQ-7 hairpinned ICMP errors;
REQ-8 ICMP administratively prohibited when no mapping can be made; REQ-9 (MAY) a policy muting
ICMP towards interfaces; REQ-10 the NAT's own ICMP errors (here: Time Exceeded and Fragmentation
Needed about translated packets must quote what the sender sent); REQ-11 non-query, non-error ICMP
dropped or handled.

Errors are crafted with scapy as a router beyond the NAT (or a LAN host) would send them, quoting
the packet as it was on that side, and looked for with Host.capture() on the other side.
"""

from __future__ import annotations

import json
import socket
import time

from conformance_api import Lab, failed, fresh_port, not_applicable, passed, requirement

RFC = "RFC 5508"
ICMP_QUERY_MINIMUM = 60


def inet():
    from scapy.layers.inet import ICMP, IP, UDP, ICMPerror, IPerror, UDPerror, TCPerror

    return IP, UDP, ICMP, IPerror, UDPerror, ICMPerror, TCPerror


def gateway_flows(lab: Lab, *selectors: str) -> list[dict]:
    return json.loads(lab.gatewayctl("--json", "flows", *selectors))["flows"]


def udp_pair(lab: Lab, lan_host=None, remote=None):
    """A UDP exchange lan:P <-> remote:A through the NAT: (lan socket, remote socket, P, A, external port)."""
    lan_host = lan_host or lab.lan1
    remote = remote or lab.wan
    p, a = fresh_port(), fresh_port()
    ls, rs = lan_host.udp_socket(p), remote.udp_socket(a)
    ls.sendto(b"hello-5508", (remote.address, a))
    _, (_, external) = rs.recvfrom(64)
    rs.sendto(b"back-5508", (lab.gateway_wan, external))
    ls.recvfrom(64)
    return ls, rs, p, a, external


def error_about(lab, src: str, dst: str, quoted, icmp_type: int = 3, code: int = 3, length: int = 28, **icmp_fields):
    """An ICMP error quoting the first `length` bytes of `quoted` (its IP header and 8 bytes, RFC 792)."""
    IP, UDP, ICMP, *_ = inet()
    return IP(src=src, dst=dst) / ICMP(type=icmp_type, code=code, **icmp_fields) / bytes(quoted)[:length]


def echo(src: str, dst: str, ident: int, seq: int = 1, ttl: int = 64):
    IP, UDP, ICMP, *_ = inet()
    return IP(src=src, dst=dst, ttl=ttl) / ICMP(type=8, id=ident, seq=seq) / b"rfc5508-echo"


def kernel_conntrack(lab: Lab) -> str:
    return lab.gw.run("cat", "/proc/net/nf_conntrack")


# ---------------------------------------------------------------------------------------------


@requirement(RFC, "REQ-1", "MUST", "ICMP queries from the LAN permitted; identifier mapping endpoint-independent (1a)")
def icmp_query(lab: Lab):
    # lan2 takes the identifier first, so the NAT must give lan1 another one; then lan1 pings two
    # hosts with the same identifier: REQ-1a wants one mapping for both.
    IP, UDP, ICMP, *_ = inet()
    ident = fresh_port()
    with lab.wan.capture() as wan_cap, lab.lan1.capture() as lan_cap:
        lab.lan2.send_ip(echo(lab.lan2.address, lab.wan.address, ident, seq=1))
        wan_cap.wait_for(lambda q: ICMP in q and q[ICMP].type == 8 and q[ICMP].seq == 1 and q.src == lab.gateway_wan)
        lab.lan1.send_ip(echo(lab.lan1.address, lab.wan.address, ident, seq=2))
        lab.lan1.send_ip(echo(lab.lan1.address, lab.wan2.address, ident, seq=3))
        time.sleep(0.6)
        requests = {q[ICMP].seq: q for q in wan_cap.ip_packets(
            lambda q: ICMP in q and q[ICMP].type == 8 and q.src == lab.gateway_wan and q[ICMP].seq in (1, 2, 3))}
        replies = {q[ICMP].seq for q in lan_cap.ip_packets(
            lambda q: ICMP in q and q[ICMP].type == 0 and q[ICMP].id == ident and q.dst == lab.lan1.address)}
    if 2 not in requests or 3 not in requests:
        return failed("lan1's echo requests did not leave the gateway translated")
    if replies != {2, 3}:
        return failed(f"echo replies reaching lan1 with its identifier: {sorted(replies)} of [2, 3]")
    to_wan, to_wan2 = requests[2][ICMP].id, requests[3][ICMP].id
    if to_wan != to_wan2:
        return failed(f"queries permitted, but lan1's identifier {ident} (held by lan2) became {to_wan} towards wan "
                      f"and {to_wan2} towards wan2: not endpoint-independent (REQ-1a)")
    return passed(f"echo requests and replies pass; lan1's identifier {ident} (held by lan2) became {to_wan} "
                  "towards both wan and wan2")


@requirement(RFC, "REQ-2", "MUST", "ICMP query session timeout >= 60 s")
def icmp_query_timeout(lab: Lab):
    if lab.target == "kernel":
        value = int(lab.gw.run("cat", "/proc/sys/net/netfilter/nf_conntrack_icmp_timeout").strip())
        detail = f"nf_conntrack_icmp_timeout is {value} s"
        return passed(detail) if value >= ICMP_QUERY_MINIMUM else failed(detail)
    if lab.gatewayctl is None:
        return failed("no gatewayctl to read the flows' timeouts with")
    ident = fresh_port()
    lab.lan1.send_ip(echo(lab.lan1.address, lab.wan.address, ident))
    time.sleep(0.3)
    flows = gateway_flows(lab, "--proto", "icmp", "--internal", f"{lab.lan1.address}:{ident}")
    if not flows:
        return failed("no ICMP flow for lan1's echo request")
    left = flows[0]["seconds_left"]
    detail = f"an echo session has {left} s left right after its reply (nat.timeouts.icmp)"
    return passed(detail) if left >= ICMP_QUERY_MINIMUM - 1 else failed(detail)


@requirement(RFC, "REQ-3", "SHOULD", "ICMP error checksums: bad ICMP or quoted IP checksum dropped (3a); "
             "quoted IP options passed (3b); quoted transport checksum not checked (3c)")
def error_checksums(lab: Lab):
    from scapy.layers.inet import IPOption_NOP

    IP, UDP, ICMP, IPerror, UDPerror, *_ = inet()
    ls, rs, p, a, external = udp_pair(lab)
    try:
        def quoted(ident: int, break_ip_checksum: bool = False, options: bool = False,
                   break_udp_checksum: bool = False) -> tuple[bytes, int]:
            header = IP(src=lab.gateway_wan, dst=lab.wan.address, id=ident,
                        options=[IPOption_NOP()] * 4 if options else [])
            raw = bytearray(bytes(header / UDP(sport=external, dport=a) / b"x"))
            length = (24 if options else 20) + 8
            if break_ip_checksum:
                raw[10] ^= 0x5a
            if break_udp_checksum:
                raw[length - 2] ^= 0x5a
            return bytes(raw), length

        def error(ident: int, **how) -> bytes:
            data, length = quoted(ident, **how)
            return bytes(error_about(lab, lab.wan.address, lab.gateway_wan, data, length=length))

        bad_icmp = bytearray(error(0x5301))
        bad_icmp[22] ^= 0x5a  # the ICMP checksum (20-byte outer header, then type, code, checksum)
        with lab.lan1.capture() as cap:
            lab.wan.send_ip(bytes(bad_icmp))
            lab.wan.send_ip(error(0x5302, break_ip_checksum=True))
            lab.wan.send_ip(error(0x5304, options=True))
            lab.wan.send_ip(error(0x5305, break_udp_checksum=True))
            lab.wan.send_ip(error(0x5303))
            time.sleep(0.6)
            arrived = {q[IPerror].id: q for q in cap.ip_packets(lambda q: ICMP in q and IPerror in q and q[ICMP].type == 3
                                                                and q.dst == lab.lan1.address)}
    finally:
        ls.close()
        rs.close()

    def translated(ident: int) -> bool:
        q = arrived.get(ident)
        return q is not None and q[IPerror].src == lab.lan1.address and UDPerror in q and q[UDPerror].sport == p

    if not translated(0x5303):
        return failed("not even the valid ICMP error (the control) reached lan1 translated")
    wrong = [what for ident, what in ((0x5301, "a bad ICMP checksum"), (0x5302, "a bad quoted IP header checksum"))
             if ident in arrived]
    if wrong:
        return failed(f"forwarded to lan1 an ICMP error with {' and '.join(wrong)} (the valid one passed too)")
    if not translated(0x5304):
        return failed("an error whose quoted IP header carries options did not reach lan1 translated (3b)")
    if not translated(0x5305):
        return failed("an error whose quoted UDP checksum is wrong was dropped: the transport checksum was checked (3c)")
    return passed("errors with a bad ICMP checksum or a bad quoted IP checksum were dropped; valid ones passed "
                  "translated, also with IP options in the quoted header or a wrong quoted UDP checksum")


@requirement(RFC, "REQ-4", "MUST", "ICMP errors from the WAN translated (quoted header, destination); none without a mapping")
def errors_from_wan(lab: Lab):
    IP, UDP, ICMP, IPerror, UDPerror, ICMPerror, TCPerror = inet()
    from scapy.layers.inet import TCP

    ls, rs, p, a, external = udp_pair(lab)
    tcp_listener = lab.wan.tcp_socket(fresh_port())
    tcp_listener.listen(1)
    tp = fresh_port()
    tcp_client = lab.lan1.tcp_socket(tp)
    try:
        tcp_port = tcp_listener.getsockname()[1]
        with lab.wan.capture() as wan_cap:
            tcp_client.connect((lab.wan.address, tcp_port))
            tcp_server, (_, tcp_external) = tcp_listener.accept()
            tcp_client.sendall(b"x")
            tcp_server.recv(8)
            tcp_server.close()
            segments = wan_cap.wait_for(lambda q: TCP in q and q.src == lab.gateway_wan and q[TCP].dport == tcp_port
                                        and len(q[TCP].payload) > 0)
        if not segments:
            return failed("lan1's TCP data never reached wan")
        ident = fresh_port()
        with lab.wan.capture() as wan_cap:
            lab.lan1.send_ip(echo(lab.lan1.address, lab.wan.address, ident))
            reqs = wan_cap.wait_for(lambda q: ICMP in q and q[ICMP].type == 8 and q.src == lab.gateway_wan
                                    and q[ICMP].seq == 1 and bytes(q[ICMP].payload) == b"rfc5508-echo")
        if not reqs:
            return failed("lan1's echo request never left the gateway")
        icmp_external = reqs[-1][ICMP].id
        cases = {
            "UDP": (IP(src=lab.gateway_wan, dst=lab.wan.address) / UDP(sport=external, dport=a), (p, "udp")),
            # As wan saw it, at the next byte lan1 sends: a quote out of the window is rightly dropped.
            "TCP": (_next_segment(segments[-1]), (tp, "tcp")),
            "ICMP": (IP(src=lab.gateway_wan, dst=lab.wan.address) / ICMP(type=8, id=icmp_external, seq=1), (ident, "icmp")),
        }
        unmapped = IP(src=lab.gateway_wan, dst=lab.wan.address) / UDP(sport=fresh_port(), dport=a)
        with lab.lan1.capture() as lan1_cap, lab.lan2.capture() as lan2_cap:
            for quoted, _ in cases.values():
                lab.wan.send_ip(error_about(lab, lab.wan.address, lab.gateway_wan, quoted, 3, 1))
            lab.wan.send_ip(error_about(lab, lab.wan.address, lab.gateway_wan, unmapped, 3, 1))
            time.sleep(0.6)
            errors = lan1_cap.ip_packets(lambda q: ICMP in q and IPerror in q and q[ICMP].type == 3)
            strays = lan2_cap.ip_packets(lambda q: ICMP in q and IPerror in q and q[ICMP].type == 3)
    finally:
        for s in (ls, rs, tcp_listener, tcp_client):
            s.close()

    def reverted(q, port: int, proto: str) -> bool:
        if q.dst != lab.lan1.address or q[ICMP].code != 1 or q[IPerror].src != lab.lan1.address:
            return False
        if proto == "udp":
            return UDPerror in q and q[UDPerror].sport == port
        if proto == "tcp":
            return TCPerror in q and q[TCPerror].sport == port
        return ICMPerror in q and q[ICMPerror].id == port

    missing = [name for name, (_, (port, proto)) in cases.items() if not any(reverted(q, port, proto) for q in errors)]
    unmapped_port = unmapped[UDP].sport
    leaked = [q for q in errors + strays if UDPerror in q and q[UDPerror].sport == unmapped_port]
    if missing:
        return failed(f"errors about lan1's {', '.join(missing)} did not reach it translated (outer destination, "
                      "quoted source reverted, type/code kept)")
    if leaked:
        return failed("an ICMP error quoting no mapping was forwarded into the LAN")
    return passed("host-unreachable errors about lan1's UDP, TCP and echo sessions reached lan1 with the quoted "
                  "headers reverted; one quoting no mapping was dropped")


def _next_segment(segment):
    from scapy.layers.inet import IP, TCP

    segment = segment.copy()
    segment[TCP].seq += len(segment[TCP].payload)
    del segment[IP].chksum, segment[TCP].chksum
    return segment


@requirement(RFC, "REQ-5", "MUST", "ICMP errors from the LAN translated (quoted header, source); none without a mapping")
def errors_from_lan(lab: Lab):
    IP, UDP, ICMP, IPerror, UDPerror, *_ = inet()
    ls, rs, p, a, external = udp_pair(lab)
    ls.close()  # lan1 reports its port unreachable, as its kernel would once the socket is gone
    try:
        about = IP(src=lab.wan.address, dst=lab.lan1.address) / UDP(sport=a, dport=p)
        stray_port = fresh_port()
        no_mapping = IP(src=lab.wan.address, dst=lab.lan1.address) / UDP(sport=a, dport=stray_port)
        with lab.wan.capture() as cap:
            lab.lan1.send_ip(error_about(lab, lab.lan1.address, lab.wan.address, about, 3, 3))
            lab.lan1.send_ip(error_about(lab, lab.lan1.address, lab.wan.address, no_mapping, 3, 3))
            time.sleep(0.6)
            errors = cap.ip_packets(lambda q: ICMP in q and IPerror in q and q[ICMP].type == 3)
    finally:
        rs.close()
    good = [q for q in errors if UDPerror in q and q[UDPerror].dport == external and q[IPerror].dst == lab.gateway_wan
            and q.src == lab.gateway_wan and q[ICMP].code == 3]
    leaked = [q for q in errors if lab.lan1.address in (q.src, q[IPerror].dst)]
    stray = [q for q in errors if UDPerror in q and q[UDPerror].dport == stray_port]
    if leaked:
        q = leaked[0]
        return failed(f"an ICMP error left by the WAN with lan1's address in it ({q.src} > {q.dst}, quoting "
                      f"{q[IPerror].src} > {q[IPerror].dst})")
    if not good:
        return failed("lan1's port unreachable about its mapping never reached wan translated")
    if stray:
        return failed("lan1's error quoting no mapping was forwarded")
    return passed(f"lan1's port unreachable left from {lab.gateway_wan} quoting {lab.gateway_wan}:{external}; "
                  "one quoting no mapping was dropped")


@requirement(RFC, "REQ-6", "MUST", "An ICMP error about a query session neither refreshes nor deletes it")
def error_keeps_query_session(lab: Lab):
    IP, UDP, ICMP, *_ = inet()
    ident = fresh_port()
    with lab.wan.capture() as cap:
        lab.lan1.send_ip(echo(lab.lan1.address, lab.wan.address, ident))
        reqs = cap.wait_for(lambda q: ICMP in q and q[ICMP].type == 8 and q.src == lab.gateway_wan
                            and bytes(q[ICMP].payload) == b"rfc5508-echo")
    if not reqs:
        return failed("lan1's echo request never left the gateway")
    external = reqs[-1][ICMP].id
    time.sleep(2.2)
    before = _query_session_left(lab, ident, external)
    quoted = IP(src=lab.gateway_wan, dst=lab.wan.address) / ICMP(type=8, id=external, seq=1)
    lab.wan.send_ip(error_about(lab, lab.wan.address, lab.gateway_wan, quoted, 3, 1))
    time.sleep(0.3)
    after = _query_session_left(lab, ident, external)
    with lab.lan1.capture() as lan_cap:
        lab.wan.send_ip(IP(src=lab.wan.address, dst=lab.gateway_wan) / ICMP(type=0, id=external, seq=9))
        alive = lan_cap.wait_for(lambda q: ICMP in q and q[ICMP].type == 0 and q[ICMP].seq == 9 and q[ICMP].id == ident, 1.0)
    if after is None or not alive:
        return failed("the ICMP error about lan1's echo session deleted it")
    if before is None:
        return failed("the echo session was not found before the error")
    if after > before:
        return failed(f"the ICMP error refreshed lan1's echo session ({before} s left before it, {after} s after)")
    return passed(f"after a host unreachable about it, lan1's echo session still had {after} s left ({before} s "
                  "before: not refreshed) and still took replies")


def _query_session_left(lab: Lab, ident: int, external: int) -> int | None:
    if lab.target == "kernel":
        for line in kernel_conntrack(lab).splitlines():
            fields = line.split()
            if "icmp" in fields and f"src={lab.lan1.address}" in fields and f"id={ident}" in fields:
                return int(fields[fields.index("icmp") + 2])
        return None
    flows = gateway_flows(lab, "--proto", "icmp", "--internal", f"{lab.lan1.address}:{ident}")
    return flows[0]["seconds_left"] if flows else None


@requirement(RFC, "REQ-7", "MUST", "Hairpinned ICMP errors traverse, translated", per_filtering_mode=True)
def hairpinned_errors(lab: Lab):
    # lan1 and lan2 have UDP mappings (each talked to wan); lan2 punches towards lan1's external
    # endpoint, lan1 sends to lan2's; lan2 answers with an ICMP error about that datagram,
    # sent to lan1's external address as it saw it. lan1 must get it with the quoted header as it
    # sent it (REQ-7a: outer destination lan1).
    IP, UDP, ICMP, IPerror, UDPerror, *_ = inet()
    ls1, rs1, p, a1, e1 = udp_pair(lab, lab.lan1)
    rs1.close()
    q = fresh_port()
    with lab.wan.capture() as cap:
        lab.lan2.send_ip(IP(src=lab.lan2.address, dst=lab.wan.address) / UDP(sport=q, dport=a1) / b"map")
        seen = cap.wait_for(lambda x: UDP in x and x.src == lab.gateway_wan and bytes(x[UDP].payload) == b"map"
                            and x[UDP].dport == a1)
    try:
        if not seen:
            return failed("lan2's datagram never left the gateway")
        e2 = seen[-1][UDP].sport
        lab.lan2.send_ip(IP(src=lab.lan2.address, dst=lab.gateway_wan) / UDP(sport=q, dport=e1) / b"punch")
        with lab.lan2.capture() as lan2_cap, lab.lan1.capture() as lan1_cap:
            ls1.sendto(b"to-lan2", (lab.gateway_wan, e2))
            hairpinned = lan2_cap.wait_for(lambda x: UDP in x and bytes(x[UDP].payload) == b"to-lan2", 1.0)
            # lan2's kernel may answer by itself (nothing listens on q), but the one judged is
            # crafted, host unreachable (code 1), so that neither that one nor the gateway's own port
            # unreachable (were the datagram delivered to the gateway) is taken for it, and so that
            # the error path is judged even where the datagram did not come through.
            quoted = IP(src=lab.gateway_wan, dst=lab.lan2.address) / UDP(sport=e1, dport=q) / b"to-lan2"
            lab.lan2.send_ip(error_about(lab, lab.lan2.address, lab.gateway_wan, quoted, 3, 1))
            time.sleep(0.6)
            errors = lan1_cap.ip_packets(lambda x: ICMP in x and x[ICMP].type == 3 and x[ICMP].code == 1 and UDPerror in x)
    finally:
        ls1.close()
    good = [x for x in errors if x.dst == lab.lan1.address and x[IPerror].src == lab.lan1.address
            and x[UDPerror].sport == p and x[IPerror].dst == lab.gateway_wan and x[UDPerror].dport == e2]
    datagram = "the datagram was hairpinned to lan2" if hairpinned else "the datagram itself never reached lan2"
    if good:
        return passed(f"lan2's host unreachable came back to lan1 quoting {lab.lan1.address}:{p} > "
                      f"{lab.gateway_wan}:{e2} ({datagram})")
    if errors:
        x = errors[0]
        return failed(f"lan2's host unreachable reached lan1 quoting {x[IPerror].src}:{x[UDPerror].sport} > "
                      f"{x[IPerror].dst}:{x[UDPerror].dport} ({datagram})")
    return failed(f"lan2's host unreachable about lan1's hairpinned datagram never came back to lan1 ({datagram})")


@requirement(RFC, "REQ-8", "SHOULD", "No mapping possible: ICMP administratively prohibited to the sender")
def unreachable_when_full(lab: Lab):
    if lab.target == "kernel":
        return not_applicable("the kernel's MASQUERADE has no per-host port limit, and exhausting its ports "
                              "(64512 per destination) is out of reach of a check lasting seconds")
    if lab.gatewayctl is None:
        return failed("no gatewayctl to read the port limit with")
    return _fill_and_probe(lab)


def _configured(lab: Lab, key: str, default: str) -> str:
    path = json.loads(lab.gatewayctl("--json", "status"))["config_path"]
    section, name = key.split(".")
    current = None
    with open(path) as config:
        for line in config:
            if line and not line[0].isspace() and line.rstrip().endswith(":"):
                current = line.strip()[:-1]
            elif current == section and line.strip().startswith(name + ":"):
                return line.split(":", 1)[1].strip()
    return default


def _fill_and_probe(lab: Lab):
    # A host of its own (a second address on lan2) takes ports until nat.max_ports_per_host; the
    # next new flow cannot be mapped and must bring back a type 3 code 13.
    IP, UDP, ICMP, IPerror, UDPerror, *_ = inet()
    if _configured(lab, "nat.unreachable_when_full", "true") == "false":
        return failed("nat.unreachable_when_full is false in the configuration under test")
    limit = int(_configured(lab, "nat.max_ports_per_host", "4096"))
    host = "192.168.50.77"
    lab.lan2.run("ip", "addr", "add", f"{host}/24", "dev", lab.lan2.interface)
    try:
        with lab.lan2:
            raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        with raw:
            # TTL 2: the datagrams die at the ISP router instead of loading wan2.
            template = IP(src=host, dst=lab.wan2.address, ttl=2) / UDP(dport=9) / b"fill"
            for port in range(20000, 20000 + limit):
                template[UDP].sport = port
                raw.sendto(bytes(template), (lab.wan2.address, 0))
            time.sleep(0.5)
            probe_port = 20000 + limit + 1
            with lab.lan2.capture() as cap:
                template[UDP].sport = probe_port
                raw.sendto(bytes(template), (lab.wan2.address, 0))
                got = cap.wait_for(lambda q: ICMP in q and q.dst == host and q[ICMP].type == 3 and UDPerror in q
                                   and q[UDPerror].sport == probe_port, 1.5)
    finally:
        lab.gatewayctl("flows", "delete", "--host", host)
        lab.lan2.run("ip", "addr", "del", f"{host}/24", "dev", lab.lan2.interface)
    if not got:
        return failed(f"a host at its port limit ({limit}) got no ICMP for the datagram that could not be mapped")
    code = got[0][ICMP].code
    if code != 13:
        return failed(f"a host at its port limit got ICMP destination unreachable code {code}, not 13")
    return passed(f"a host at nat.max_ports_per_host ({limit}) got destination unreachable, administratively "
                  "prohibited (3/13), for the datagram that could not be mapped")


@requirement(RFC, "REQ-9", "MAY", "Policy to mute ICMP towards interfaces")
def icmp_policy(lab: Lab):
    if lab.target == "kernel":
        return not_applicable("a MAY; the reference MASQUERADE setup has no such policy, so REQ-10 applies in full")
    return not_applicable("a MAY; gatewayd has no policy muting ICMP towards an interface, so REQ-10 applies in full")


@requirement(RFC, "REQ-10", "MUST", "The NAT's own ICMP errors about translated packets quote what the sender sent")
def own_errors_translated(lab: Lab):
    # (a) a datagram to lan1's mapping arriving with TTL 1: the Time Exceeded to wan2 must quote
    # wan2 > gateway:external, not lan1's address; (b) a DF datagram larger than the LAN's MTU
    # (1400, a tunnel's): the Fragmentation Needed likewise; (c) lan1's own TTL-1 datagram and (d)
    # its DF datagram larger than the WAN's MTU (1492, PPPoE's): the errors lan1 gets quote its
    # packet as it sent it.
    IP, UDP, ICMP, IPerror, UDPerror, *_ = inet()
    ls, rs, p, a, external = udp_pair(lab, remote=lab.wan2)
    results = []
    # A path MTU the senders learned (from an earlier run's Fragmentation Needed, if translated
    # right) would make their kernels refuse the big datagrams: forget it, before and after.
    forget_path_mtus = [lab.wan2.run, lab.lan1.run]
    for run in forget_path_mtus:
        run("ip", "route", "flush", "cache")
    lan_if = _interface_with(lab.gw, lab.gateway_lan)
    lan_mtu = lab.gw.run("cat", f"/sys/class/net/{lan_if}/mtu").strip()
    try:
        inbound = IP(src=lab.wan2.address, dst=lab.gateway_wan, ttl=2) / UDP(sport=a, dport=external) / b"ttl"
        big = IP(src=lab.wan2.address, dst=lab.gateway_wan, flags="DF") / UDP(sport=a, dport=external) / (b"m" * 1450)
        with lab.wan2.capture() as cap:
            lab.wan2.send_ip(inbound)
            time.sleep(0.4)
            lab.gw.run("ip", "link", "set", "dev", lan_if, "mtu", "1400")
            try:
                lab.wan2.send_ip(big)
                time.sleep(0.6)
            finally:
                lab.gw.run("ip", "link", "set", "dev", lan_if, "mtu", lan_mtu)
            errors = cap.ip_packets(lambda q: ICMP in q and IPerror in q and q.src == lab.gateway_wan)
        for name, icmp_type, code in (("Time Exceeded", 11, 0), ("Fragmentation Needed", 3, 4)):
            about = [q for q in errors if q[ICMP].type == icmp_type and q[ICMP].code == code]
            ok = [q for q in about if q[IPerror].dst == lab.gateway_wan and UDPerror in q and q[UDPerror].dport == external]
            if ok:
                results.append((True, f"{name} quoted {lab.gateway_wan}:{external}"))
            elif about:
                q = about[0]
                port = q[UDPerror].dport if UDPerror in q else "?"
                results.append((False, f"{name} quoted {q[IPerror].dst}:{port}"))
            else:
                results.append((False, f"no {name} reached wan2"))
        # Outbound: lan1's TTL-1 datagram, then a DF one larger than a PPPoE WAN's MTU (1492).
        wan_if = _interface_with(lab.gw, lab.gateway_wan)
        wan_mtu = lab.gw.run("cat", f"/sys/class/net/{wan_if}/mtu").strip()
        with lab.lan1.capture() as cap:
            lab.lan1.send_ip(IP(src=lab.lan1.address, dst=lab.wan2.address, ttl=1) / UDP(sport=p, dport=a) / b"ttl")
            time.sleep(0.3)
            lab.gw.run("ip", "link", "set", "dev", wan_if, "mtu", "1492")
            try:
                lab.lan1.send_ip(IP(src=lab.lan1.address, dst=lab.wan2.address, flags="DF") / UDP(sport=p, dport=a)
                                 / (b"m" * 1472))
                time.sleep(0.6)
            finally:
                lab.gw.run("ip", "link", "set", "dev", wan_if, "mtu", wan_mtu)
            out = cap.ip_packets(lambda q: ICMP in q and IPerror in q and UDPerror in q and q.dst == lab.lan1.address)
        for name, icmp_type, code in (("Time Exceeded", 11, 0), ("Fragmentation Needed", 3, 4)):
            about = [q for q in out if q[ICMP].type == icmp_type and q[ICMP].code == code]
            if any(q[IPerror].src == lab.lan1.address and q[UDPerror].sport == p for q in about):
                results.append((True, f"lan1's own datagram got a {name} quoting it as sent"))
            elif about:
                results.append((False, f"lan1's own datagram got a {name} quoting "
                                       f"{about[0][IPerror].src}:{about[0][UDPerror].sport}"))
            else:
                results.append((False, f"lan1's own datagram got no {name}"))
    finally:
        ls.close()
        rs.close()
        for run in forget_path_mtus:
            run("ip", "route", "flush", "cache")
    detail = "; ".join(r[1] for r in results)
    return passed(detail) if all(r[0] for r in results) else failed(detail)


def _interface_with(host, address: str) -> str:
    for line in host.run("ip", "-o", "-4", "addr", "show").splitlines():
        fields = line.split()
        if fields[3].split("/")[0] == address:
            return fields[1]
    raise RuntimeError(f"no interface of {host.role} has {address}")


@requirement(RFC, "REQ-11", "MAY", "Non-query, non-error ICMP dropped or handled")
def non_query_error(lab: Lab):
    # Router advertisement (9) and solicitation (10) from the WAN to the gateway's address must not
    # reach a LAN host; from lan1 to the WAN they may be dropped or translated, never leak lan1.
    IP, UDP, ICMP, *_ = inet()
    kinds = (9, 10)
    with lab.lan1.capture() as c1, lab.lan2.capture() as c2, lab.wan.capture() as cw:
        for t in kinds:
            lab.wan.send_ip(IP(src=lab.wan.address, dst=lab.gateway_wan) / ICMP(type=t, code=0) / (b"\x00" * 8))
            lab.lan1.send_ip(IP(src=lab.lan1.address, dst=lab.wan.address) / ICMP(type=t, code=0) / (b"\x00" * 8))
        time.sleep(0.6)
        inbound = c1.ip_packets(lambda q: ICMP in q and q[ICMP].type in kinds) + \
            c2.ip_packets(lambda q: ICMP in q and q[ICMP].type in kinds)
        outbound = cw.ip_packets(lambda q: ICMP in q and q[ICMP].type in kinds)
    leaked = [q for q in outbound if q.src == lab.lan1.address]
    if inbound:
        return failed(f"an ICMP type {inbound[0][ICMP].type} sent to the gateway's WAN address reached a LAN host")
    if leaked:
        return failed(f"lan1's ICMP type {leaked[0][ICMP].type} left by the WAN untranslated, from {lab.lan1.address}")
    how = "translated" if outbound else "dropped"
    return passed(f"router advertisements and solicitations: none let into the LAN; lan1's were {how}")
