"""RFC 7857 (updates to the NAT behavioural requirements), every section with a requirement, §2 to §12."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import time

from conformance_api import failed, fresh_port, not_applicable, passed, requirement
import probes
from probes import external_of, listener, receive, seen_from

RFC = "RFC 7857"


def _tcp_pair(lab, peer=None):
    """A TCP connection lan1 → peer (the WAN host); returns (client, server side, lan port, seen source)."""
    peer = peer or lab.wan
    server = peer.tcp_socket(fresh_port())
    server.listen(1)
    client = lab.lan1.tcp_socket(fresh_port())
    client.connect((peer.address, server.getsockname()[1]))
    accepted, source = server.accept()
    server.close()
    return client, accepted, client.getsockname()[1], source


def _tcp_timer(lab, port):
    found = probes.flows(lab, "tcp", f"{lab.lan1.address}:{port}")
    return (max(f["seconds_left"] for f in found), found[0].get("state", "")) if found else (None, "gone")


_tcp = probes.memo(lambda lab: _tcp_experiment(lab))


def _tcp_experiment(lab):
    # A SYN nobody answers (the peer's firewall drops it): the opening state.
    syn_port, peer_port = fresh_port(), fresh_port()
    lab.wan2.run("iptables", "-A", "INPUT", "-p", "tcp", "--dport", str(peer_port), "-j", "DROP")
    try:
        opening = lab.lan1.tcp_socket(syn_port)
        opening.setblocking(False)
        opening.connect_ex((lab.wan2.address, peer_port))
        time.sleep(0.2)
        syn_sent = _tcp_timer(lab, syn_port)
        opening.close()
    finally:
        lab.wan2.run("iptables", "-D", "INPUT", "-p", "tcp", "--dport", str(peer_port), "-j", "DROP")
    client, accepted, port, _ = _tcp_pair(lab)
    established = _tcp_timer(lab, port)
    client.shutdown(socket.SHUT_WR)
    accepted.recv(10)
    accepted.close()
    client.recv(10)
    client.close()
    time.sleep(0.2)
    closed = _tcp_timer(lab, port)
    # A connection reset by the LAN host (SO_LINGER 0 sends an RST).
    client, accepted, port, source = _tcp_pair(lab)
    with lab.wan.capture() as cap:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        from scapy.layers.inet import TCP

        rst = cap.wait_for(lambda p: p.haslayer(TCP) and p[TCP].flags.R, probes.LOSS_WAIT)
    accepted.close()
    time.sleep(0.2)
    after_rst = _tcp_timer(lab, port)
    return {"syn_sent": syn_sent, "established": established, "closed": closed, "rst": rst[0].src if rst else None,
            "rst_port": rst[0].sport if rst else None, "source": source, "after_rst": after_rst}


@requirement(RFC, "§2", "SHOULD", "TCP session tracking by the state machine of Figure 1")
def tcp_tracking(lab):
    r = _tcp(lab)
    (syn, syn_state), (est, est_state), (closed, closed_state) = r["syn_sent"], r["established"], r["closed"]
    text = (f"after an unanswered SYN: {syn} s left ({syn_state}); established: {est} s left ({est_state}); "
            f"after FIN both ways: {closed} s left ({closed_state})")
    if syn is None or est is None or closed is None:
        return failed(text)
    # Figure 1: an outbound SYN opens V4 INIT, held for the transitory idle-timeout (4 min);
    # ESTABLISHED holds for the established idle-timeout (at least 2 h 4 min, RFC 5382 REQ-5);
    # both FINs lead to TRANS, held for the transitory idle-timeout.
    ok = 230 <= syn <= 250 and est >= 7440 and 0 < closed <= 250
    return passed(text) if ok else failed(text)


@requirement(RFC, "§2.1", "SHOULD", "Separate configurable opening and closing idle-timeouts, default at least 4 min")
def transitory_timeouts(lab):
    r = _tcp(lab)
    closed = r["closed"][0]
    if lab.target == "gatewayd":
        reference = subprocess.run([lab_gatewayd(), "--config-reference"], capture_output=True, text=True).stdout
        keys = sorted({line.split("`")[1] for line in reference.splitlines()
                       if line.startswith("| `nat.timeouts.tcp") or line.startswith("### `nat.timeouts.tcp")
                       if "`" in line})
        separate = any("open" in k or "syn" in k for k in keys) and any("clos" in k or "fin" in k for k in keys)
        where = f"keys {', '.join(keys) or 'none found'}"
    else:
        names = ["net.netfilter.nf_conntrack_tcp_timeout_syn_sent", "net.netfilter.nf_conntrack_tcp_timeout_fin_wait"]
        values = [lab.gw.run("sysctl", "-n", n).strip() for n in names]
        separate = True
        where = f"sysctls {names[0].rsplit('.', 1)[1]} = {values[0]} s, {names[1].rsplit('.', 1)[1]} = {values[1]} s"
        closed = min(closed or 0, int(values[1]))
    text = (f"{'separate' if separate else 'one'} opening and closing timeouts ({where}); "
            f"opening connection: {r['syn_sent'][0]} s left, closing: {r['closed'][0]} s left")
    opening = r["syn_sent"][0]
    ok = separate and closed is not None and closed >= 230 and opening is not None and opening >= 230
    return passed(text) if ok else failed(text)


def lab_gatewayd() -> str:
    """The gatewayd binary under test (its --config-reference lists the configurable keys)."""
    return os.environ.get("CONFORMANCE_GATEWAYD", "gatewayd")


@requirement(RFC, "§2.2", "MUST, SHOULD", "TCP RST translated (MUST); session held 4 min after it (SHOULD)")
def tcp_rst(lab):
    r = _tcp(lab)
    left, state = r["after_rst"]
    translated = r["rst"] == lab.gateway_wan and r["source"] and r["rst_port"] == r["source"][1]
    text = (f"the LAN host's RST reached the peer from {r['rst']}:{r['rst_port']} "
            f"({'translated' if translated else 'not translated'}); afterwards {left} s left ({state})")
    return passed(text) if translated and left is not None and left >= 230 else failed(text)


@requirement(RFC, "§3", "MAY", "Port overlapping (same external port for different destinations)")
def port_overlapping(lab):
    port = fresh_port()
    one, first = external_of(lab, lab.lan1, port, lab.wan)
    two, second = external_of(lab, lab.lan2, port, lab.wan2)
    one.close()
    two.close()
    if first is None or second is None:
        return failed("a datagram was lost")
    if first[1] == second[1]:
        return passed(f"lan1:{port} and lan2:{port} share external port {first[1]} towards two destinations")
    return not_applicable(f"not done (a MAY): lan1:{port} → {first[1]}, lan2:{port} → {second[1]}; "
                          "an endpoint-independent mapping owns its external port")


@requirement(RFC, "§4", "SHOULD", "Address pooling paired for every protocol (UDP, TCP, ICMP)")
def app(lab):
    from scapy.layers.inet import ICMP, IP

    sock, udp = external_of(lab, lab.lan1, fresh_port())
    sock.close()
    client, accepted, _, tcp = _tcp_pair(lab)
    client.close()
    accepted.close()
    with lab.wan.capture() as cap:
        lab.lan1.send_ip(IP(src=lab.lan1.address, dst=lab.wan.address) / ICMP(id=fresh_port(), seq=1))
        echo = cap.wait_for(lambda p: p.haslayer(ICMP) and p[ICMP].type == 8, probes.LOSS_WAIT)
    icmp = echo[0].src if echo else None
    seen = {"UDP": udp[0] if udp else None, "TCP": tcp[0], "ICMP": icmp}
    text = ", ".join(f"{k} from {v}" for k, v in seen.items()) + " (one external address)"
    return passed(text) if None not in seen.values() and len(set(seen.values())) == 1 else failed(text)


@requirement(RFC, "§5", "SHOULD", "EIM protocol-dependent: a UDP mapping admits no TCP")
def eim_per_protocol(lab):
    port = fresh_port()
    server, server_port = listener(lab.wan)
    sock = lab.lan1.udp_socket(port)
    external = seen_from(sock, server, (lab.wan.address, server_port))
    server.close()
    if external is None:
        sock.close()
        return failed("the UDP datagram never arrived")
    tcp_listener = lab.lan1.tcp_socket(port)
    tcp_listener.listen(1)
    peer = lab.wan.tcp_socket(server_port)
    peer.settimeout(1.0)
    try:
        peer.connect(external)
        reached = True
    except OSError:
        reached = False
    for s in (peer, tcp_listener, sock):
        s.close()
    text = f"a TCP connect from the UDP peer to the UDP mapping {external[0]}:{external[1]} " + (
        "reached lan1 (one mapping for both protocols)" if reached else "did not reach lan1")
    return failed(text) if reached else passed(text)


@requirement(RFC, "§6", "SHOULD", "EIF protocol-dependent: a TCP mapping admits no UDP", per_filtering_mode=True)
def eif_per_protocol(lab):
    client, accepted, port, source = _tcp_pair(lab)
    sock = lab.lan1.udp_socket(port)
    probe = lab.wan.udp_socket(fresh_port())
    for _ in range(2):
        probe.sendto(b"udp to a tcp mapping", source)
    got = receive(sock, 0.8)
    for s in (client, accepted, sock, probe):
        s.close()
    text = f"UDP from the TCP peer's address to the TCP mapping {source[0]}:{source[1]} " + (
        "reached lan1" if got else "did not reach lan1")
    return failed(text) if got else passed(text)


def _timer_untouched(lab, port, action) -> tuple[int | None, int | None]:
    time.sleep(1.2)  # so that a refresh would show as a rise
    before = probes.seconds_left(lab, "udp", f"{lab.lan1.address}:{port}")
    action()
    time.sleep(0.2)
    after = probes.seconds_left(lab, "udp", f"{lab.lan1.address}:{port}")
    return before, after


@requirement(RFC, "§7", "SHOULD", "EIF mapping not refreshed by inbound packets a security policy drops",
             per_filtering_mode=True)
def eif_refresh(lab):
    if lab.filtering != "endpoint-independent":
        return not_applicable(f"about endpoint-independent filtering; this run filters {lab.filtering}")
    port = fresh_port()
    sock, external = external_of(lab, lab.lan1, port)
    if external is None:
        return failed("the mapping could not be made")
    # The lab's gatewayd has an inbound rule dropping UDP from source port 4.
    dropped_from = lab.wan2.udp_socket(4)

    def knock():
        for _ in range(3):
            dropped_from.sendto(b"dropped by policy", external)

    before, after = _timer_untouched(lab, port, knock)
    got = receive(sock, 0.3)
    sock.close()
    dropped_from.close()
    text = f"packets the policy dropped ({'but one arrived' if got else 'none arrived'}): {before} → {after} s left"
    ok = not got and before is not None and after is not None and after <= before
    return passed(text) if ok else failed(text)


@requirement(RFC, "§7.1", "SHOULD", "Outbound ICMP errors answering inbound packets do not refresh the mapping")
def error_refresh(lab):
    from scapy.layers.inet import ICMP, IP, UDP

    port = fresh_port()
    server, server_port = listener(lab.wan)
    sock = lab.lan1.udp_socket(port)
    external = seen_from(sock, server, (lab.wan.address, server_port))
    if external is None:
        return failed("the mapping could not be made")
    quoted = IP(src=lab.wan.address, dst=lab.lan1.address, ttl=60) / UDP(sport=server_port, dport=port)
    error = IP(src=lab.lan1.address, dst=lab.wan.address) / ICMP(type=3, code=3) / bytes(quoted)[:28]
    with lab.wan.capture() as cap:
        before, after = _timer_untouched(lab, port, lambda: lab.lan1.send_ip(error))
        crossed = cap.wait_for(lambda p: p.haslayer(ICMP) and p[ICMP].type == 3, probes.LOSS_WAIT)
    sock.close()
    server.close()
    text = (f"lan1's port unreachable about the peer's datagram {'crossed' if crossed else 'was dropped'}: "
            f"{before} → {after} s left")
    ok = before is not None and after is not None and after <= before
    return passed(text) if ok else failed(text)


@requirement(RFC, "§8", "SHOULD", "Port parity: kept, or a means to request it")
def parity(lab):
    ok, text = probes.parity_kept(lab)
    return passed(text + "; kept for every mapping, so nothing needs to ask") if ok else failed(
        text + "; and no means to request parity was checked")


@requirement(RFC, "§9", "SHOULD", "Replacement ports unpredictable (RFC 6056)")
def port_randomization(lab):
    ports, got = probes.contended_replacements(lab, 6)
    if None in got:
        return failed("a datagram from lan2 was lost")
    replaced = [e[1] for e in got]
    steps = [b - a for a, b in zip(replaced, replaced[1:])]
    text = f"ports {ports[0]}-{ports[-1]} held by lan1 towards one peer; lan2 got {', '.join(map(str, replaced))}"
    # Predictable: each replacement a small step from the one before (sequential allocation,
    # parity-preserving or not), or one constant step.
    if all(abs(s) <= 16 for s in steps) or len(set(steps)) == 1:
        return failed(text + " (each predictable from the one before)")
    return passed(text)


@requirement(RFC, "§10", "SHOULD", "IP ID of non-atomic datagrams rewritten (RFC 6864 §5.3.1)")
def ip_id(lab):
    server, server_port = listener(lab.wan)
    bodies = {lab.lan1.address: probes.payload_of(1000, b"1"), lab.lan2.address: probes.payload_of(1000, b"2")}
    pieces, ident = {}, probes.fresh_ident()
    for host in (lab.lan1, lab.lan2):
        pieces[host.role] = probes.fragments(probes.udp_datagram(host.address, lab.wan.address, fresh_port(),
                                                                 server_port, bodies[host.address], ident=ident), 600)
    with lab.wan.capture() as cap:
        for i in range(2):  # interleaved: lan1's first, lan2's first, lan1's second, lan2's second
            for host in (lab.lan1, lab.lan2):
                probes.send_all(host, [pieces[host.role][i]])
        got = [receive(server, probes.LOSS_WAIT) for _ in range(2)]
        firsts = probes.wait_count(cap, lambda p: p.src == lab.gateway_wan and p.flags.MF and p.frag == 0, 2)
    server.close()
    delivered = sorted(g[0][:1].decode() for g in got if g and g[0] in bodies.values())
    ids = sorted({hex(p.id) for p in firsts})
    text = (f"lan1 and lan2 each sent 2 fragments with ID {ident:#x}, interleaved: the WAN host got "
            f"{len(delivered)} intact datagram(s), first fragments left with ID(s) {', '.join(ids) or 'none'}")
    ok = len(delivered) == 2 and len(ids) == 2
    return passed(text) if ok else failed(text)


@requirement(RFC, "§11", "MAY", "ICMP query mapping deleted with its last session")
def icmp_mapping(lab):
    from scapy.layers.inet import ICMP, IP

    ident = fresh_port()
    with lab.lan1.capture() as cap:
        lab.lan1.send_ip(IP(src=lab.lan1.address, dst=lab.wan.address) / ICMP(id=ident, seq=1))
        reply = cap.wait_for(lambda p: p.haslayer(ICMP) and p[ICMP].type == 0, probes.LOSS_WAIT)
    if not reply:
        return failed("no echo reply came back")
    found = [f for f in probes.flows(lab, "icmp", lab.lan1.address)]
    if not found:
        return not_applicable("the echo mapping is not visible in the NAT's table")
    left = max(f["seconds_left"] for f in found)
    return passed(f"one record is both the mapping and its session: it ends with the session ({left} s left after "
                  "one echo)")


@requirement(RFC, "§12", "MUST", "Hairpinned ICMP (an error about a hairpinned datagram comes back)",
             per_filtering_mode=True)
def icmp_hairpin(lab):
    from scapy.layers.inet import ICMP

    one, e1 = external_of(lab, lab.lan1, fresh_port())
    two, e2 = external_of(lab, lab.lan2, fresh_port())
    if e1 is None or e2 is None:
        return failed("a datagram to the WAN host never arrived")
    # lan2 opens its mapping towards lan1's external endpoint, then closes its socket: lan1's
    # datagram to lan2's external endpoint then draws lan2's port unreachable, hairpinned back.
    two.sendto(b"opening", e1)
    receive(one, 0.3)
    two.close()
    with lab.lan1.capture() as cap:
        one.sendto(b"to a closed port", e2)
        errors = cap.wait_for(lambda p: p.haslayer(ICMP) and p[ICMP].type == 3, probes.LOSS_WAIT)
    one.close()
    if not errors:
        return failed(f"lan1's datagram to lan2's external endpoint {e2[0]}:{e2[1]} drew no ICMP error back")
    error = errors[0]
    inner = error[ICMP].payload
    text = (f"port unreachable came back from {error.src}, quoting {getattr(inner, 'src', '?')}:"
            f"{getattr(inner.payload, 'sport', '?')} → {getattr(inner, 'dst', '?')}:{getattr(inner.payload, 'dport', '?')}")
    ok = error.src == lab.gateway_wan and getattr(inner, "src", None) == lab.lan1.address
    return passed(text) if ok else failed(text)
