"""RFC 4787 (NAT behavioural requirements for unicast UDP), REQ-1 to REQ-14, crafted from the lab's hosts."""

from __future__ import annotations

import socket
import time

from conformance_api import failed, fresh_port, not_applicable, passed, requirement
import probes
from probes import external_of, filtering_observed, listener, receive, seen_from

RFC = "RFC 4787"


def _ep(endpoint) -> str:
    return f"{endpoint[0]}:{endpoint[1]}" if endpoint else "nothing"


def _contended(lab):
    """lan1 holds port p towards wan:q; lan2 sends from p to wan2:r (p itself free there), to wan:q
    (the same 5-tuple as lan1's: contention) and to wan:q'. Returns (p, lan1's, lan2's externals, lan2's socket)."""
    port = fresh_port()
    first, first_port = listener(lab.wan)
    holder = lab.lan1.udp_socket(port)
    held = seen_from(holder, first, (lab.wan.address, first_port))
    sock = lab.lan2.udp_socket(port)
    seen = []
    for host, server, server_port in ((lab.wan2, *listener(lab.wan2)), (lab.wan, first, first_port),
                                      (lab.wan, *listener(lab.wan))):
        seen.append(seen_from(sock, server, (host.address, server_port)))
        if server is not first:
            server.close()
    first.close()
    holder.close()
    return port, held, seen, sock


CONTENDED = "wan2:r, wan:q (lan1's destination too), wan:q'"


@requirement(RFC, "REQ-1", "MUST", "Endpoint-independent mapping, also when the port is contended")
def eim(lab):
    port = fresh_port()
    sock = lab.lan1.udp_socket(port)
    seen = []
    try:
        for host in (lab.wan, lab.wan, lab.wan2):
            server, server_port = listener(host)
            seen.append(seen_from(sock, server, (host.address, server_port)))
            server.close()
    finally:
        sock.close()
    where = "wan:q, wan:q', wan2:r"
    if None in seen:
        return failed(f"lan1:{port} to {where}: not every datagram arrived ({', '.join(map(_ep, seen))})")
    if len(set(seen)) != 1:
        return failed(f"lan1:{port} got {', '.join(map(_ep, seen))} towards {where}")
    contended, held, other, other_sock = _contended(lab)
    other_sock.close()
    text = (f"lan1:{port} kept {_ep(seen[0])} towards {where}; with {contended} held by lan1, lan2:{contended} got "
            f"{', '.join(map(_ep, other))} towards {CONTENDED}")
    return passed(text) if None not in other and len(set(other)) == 1 else failed(text)


@requirement(RFC, "REQ-2", "RECOMMENDED", "IP address pooling: paired")
def paired(lab):
    addresses = set()
    for host in (lab.wan, lab.wan2):
        sock, external = external_of(lab, lab.lan1, fresh_port(), host)
        sock.close()
        if external is None:
            return failed(f"a datagram from lan1 to {host.role} never arrived")
        addresses.add(external[0])
    if len(addresses) != 1:
        return failed(f"lan1's mappings used several external addresses: {sorted(addresses)}")
    return passed(f"every mapping of lan1 uses {addresses.pop()} (one external address)")


@requirement(RFC, "REQ-3", "MUST", "No port overloading")
def no_overloading(lab):
    port = fresh_port()
    one, first = external_of(lab, lab.lan1, port, lab.wan)
    two, second = external_of(lab, lab.lan2, port, lab.wan2)
    one.close()
    two.close()
    if first is None or second is None:
        return failed(f"lan1:{port} → {_ep(first)}, lan2:{port} → {_ep(second)}: a datagram was lost")
    if first == second:
        return failed(f"lan1:{port} and lan2:{port} both left as {_ep(first)} (port overloading; RFC 7857 §3 "
                      "allows it as port overlapping, told apart by the whole 5-tuple)")
    return passed(f"lan1:{port} → {_ep(first)}, lan2:{port} (other destination) → {_ep(second)}")


@requirement(RFC, "REQ-3a", "RECOMMENDED", "Source ports 0-1023 stay in 0-1023, 1024-65535 in 1024-65535")
def port_ranges(lab):
    low = probes.low_port()
    high = fresh_port()
    s1, low_ext = external_of(lab, lab.lan1, low)
    s2, high_ext = external_of(lab, lab.lan1, high)
    s1.close()
    s2.close()
    if low_ext is None or high_ext is None:
        return failed(f"lan1:{low} → {_ep(low_ext)}, lan1:{high} → {_ep(high_ext)}: a datagram was lost")
    ok = low_ext[1] < 1024 and high_ext[1] >= 1024
    text = f"source {low} → {low_ext[1]}, source {high} → {high_ext[1]}"
    return passed(text) if ok else failed(text)


@requirement(RFC, "REQ-4", "RECOMMENDED", "Port parity preserved")
def parity(lab):
    ok, text = probes.parity_kept(lab)
    return passed(text) if ok else failed(text)


_timer = probes.memo(lambda lab: _udp_timer(lab))


def _udp_timer(lab):
    sock, external = external_of(lab, lab.lan1, fresh_port())
    port = sock.getsockname()[1]
    sock.close()
    if external is None:
        return None, "the datagram never arrived"
    left = probes.seconds_left(lab, "udp", f"{lab.lan1.address}:{port}")
    return left, f"an unanswered mapping has {left} s left just after its first datagram"


@requirement(RFC, "REQ-5", "MUST", "UDP mapping timer at least 2 minutes")
def udp_timer(lab):
    left, text = _timer(lab)
    if left is None:
        return failed(text)
    return passed(text) if left >= 118 else failed(text)


@requirement(RFC, "REQ-5c", "RECOMMENDED", "UDP mapping timer default of 5 minutes or more")
def udp_timer_default(lab):
    left, text = _timer(lab)
    if left is None:
        return failed(text)
    return passed(text) if left >= 298 else failed(text)


@requirement(RFC, "REQ-6", "MUST", "Outbound refresh (inbound refresh MAY)")
def refresh(lab):
    out_port, in_port = fresh_port(), fresh_port()
    out_sock, out_ext = external_of(lab, lab.lan1, out_port)
    server, server_port = listener(lab.wan)
    in_sock = lab.lan1.udp_socket(in_port)
    in_ext = seen_from(in_sock, server, (lab.wan.address, server_port))
    if out_ext is None or in_ext is None:
        return failed("a datagram never arrived")
    time.sleep(1.2)  # so that a refresh shows as a rise of the timer
    internal = lab.lan1.address
    before_out = probes.seconds_left(lab, "udp", f"{internal}:{out_port}")
    before_in = probes.seconds_left(lab, "udp", f"{internal}:{in_port}")
    peer, peer_port = listener(lab.wan)
    out_sock.sendto(b"refresh", (lab.wan.address, peer_port))
    receive(peer, 0.5)
    server.sendto(b"inbound", in_ext)
    receive(in_sock, 0.5)
    after_out = probes.seconds_left(lab, "udp", f"{internal}:{out_port}")
    after_in = probes.seconds_left(lab, "udp", f"{internal}:{in_port}")
    for s in (out_sock, in_sock, server, peer):
        s.close()
    inbound = "yes" if after_in and before_in and after_in > before_in else "no"
    text = (f"outbound packet: {before_out} → {after_out} s left; inbound refresh (REQ-6a, MAY): {inbound} "
            f"({before_in} → {after_in} s)")
    if before_out is None or after_out is None:
        return failed(text)
    return passed(text) if after_out > before_out else failed(text)


@requirement(RFC, "REQ-7", "MUST", "No failure when the external network numerically overlaps the LAN")
def conflicting_external(lab):
    # A node on the WAN side whose address lies inside the LAN's network (a dynamic WAN address in
    # the same private range as the LAN is the case REQ-7 is written for). Neither gatewayd nor the
    # kernel numbers the LAN, so (1) is not theirs to do; (2) asks that such nodes stay reachable.
    conflicting = lab.lan1.address.rsplit(".", 1)[0] + ".222"
    lab.wan2.run("ip", "addr", "add", f"{conflicting}/32", "dev", "eth0")
    lab.wan.run("ip", "route", "add", f"{conflicting}/32", "via", lab.wan2.address)
    try:
        server, server_port = listener(lab.wan2)
        server.close()
        with lab.wan2:
            server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            server.bind((conflicting, server_port))
        sock = lab.lan1.udp_socket(fresh_port())
        seen = seen_from(sock, server, (conflicting, server_port))
        sock.close()
        server.close()
    finally:
        lab.wan.run("ip", "route", "del", f"{conflicting}/32")
        lab.wan2.run("ip", "addr", "del", f"{conflicting}/32", "dev", "eth0")
    if seen is not None:
        return passed(f"the external node {conflicting} saw lan1 as {_ep(seen)}")
    # Option (1) is the job of whatever numbers the LAN (its DHCP server), which neither target is;
    # option (2) cannot be had by a NAT: a LAN host sends to an address of its own subnet on its
    # link, to whichever LAN host owns it, and never to the gateway.
    reason = (f"lan1 cannot reach the external node {conflicting}, inside its own subnet: it sends to it on "
              "the LAN, never to the gateway, so no NAT can forward it (option 2); option 1, numbering the LAN "
              "away from the WAN's network, belongs to the LAN's DHCP server, which this NAT is not")
    if lab.target == "gatewayd":
        reason += "; gatewayd warns in its log when the WAN interface's network overlaps lan.networks"
    return not_applicable(reason)


@requirement(RFC, "REQ-8", "RECOMMENDED", "Filtering: endpoint-independent or address-dependent, configurable",
             per_filtering_mode=True)
def filtering(lab):
    behaviour, seen = filtering_observed(lab)
    if lab.target == "gatewayd":
        text = f"{behaviour} as configured ({seen})"
        if behaviour != lab.filtering:
            return failed(f"{behaviour}, configured {lab.filtering} ({seen})")
        if behaviour == "address-and-port-dependent":
            text += "; stricter than the two recommended, chosen by the administrator (REQ-8a)"
        return passed(text)
    text = f"{behaviour}, not configurable ({seen})"
    return passed(text) if behaviour in ("endpoint-independent", "address-dependent") else failed(text)


@requirement(RFC, "REQ-9", "MUST", "Hairpinning, with the external source address and port (REQ-9a)",
             per_filtering_mode=True)
def hairpinning(lab):
    one, e1 = external_of(lab, lab.lan1, fresh_port())
    two, e2 = external_of(lab, lab.lan2, fresh_port())
    if e1 is None or e2 is None:
        return failed("a datagram to the WAN host never arrived")
    got1 = got2 = None
    # Hole punching between two hosts of one NAT: each sends to the other's external endpoint, twice.
    for _ in range(2):
        one.sendto(b"punch from lan1", e2)
        two.sendto(b"punch from lan2", e1)
        got2 = got2 or receive(two, 0.5)
        got1 = got1 or receive(one, 0.5)
    one.close()
    two.close()
    text = (f"lan1 ({_ep(e1)}) and lan2 ({_ep(e2)}) punched each other: lan2 saw "
            f"{_ep(got2[1]) if got2 else 'nothing'}, lan1 saw {_ep(got1[1]) if got1 else 'nothing'}")
    if not got1 or not got2:
        return failed(text)
    if got2[1] != e1 or got1[1] != e2:
        return failed(text + " (REQ-9a: the sources must be the external endpoints)")
    return passed(text)


@requirement(RFC, "REQ-10", "SHOULD", "No ALG for UDP protocols (payload untouched)")
def no_alg(lab):
    sock = lab.lan1.udp_socket(fresh_port())
    port = sock.getsockname()[1]
    body = (f"INVITE sip:peer@{lab.wan.address} SIP/2.0\r\nVia: SIP/2.0/UDP {lab.lan1.address}:{port}\r\n"
            f"Contact: <sip:me@{lab.lan1.address}:{port}>\r\nContent-Length: 0\r\n\r\n").encode()
    try:
        with lab.wan:
            server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind((lab.wan.address, 5060))
        sock.sendto(body, (lab.wan.address, 5060))
        got = receive(server)
        server.close()
    finally:
        sock.close()
    if got is None:
        return failed("a SIP INVITE to port 5060 never arrived")
    if got[0] != body:
        return failed("the SIP INVITE to port 5060 arrived rewritten (an ALG is on)")
    return passed("a SIP INVITE naming the LAN address crossed port 5060 byte for byte")


@requirement(RFC, "REQ-11", "MUST", "Deterministic: mapping and filtering hold under port contention",
             per_filtering_mode=True)
def deterministic(lab):
    port, held, seen, sock = _contended(lab)
    where = CONTENDED
    if held is None or None in seen:
        sock.close()
        return failed(f"a datagram was lost (lan1 {_ep(held)}, lan2 {', '.join(map(_ep, seen))})")
    if len(set(seen)) != 1:
        sock.close()
        return failed(f"with {port} held by lan1, lan2:{port} got {', '.join(map(_ep, seen))} towards {where}: "
                      "the mapping changed with the destination")
    # The filtering of the contended mapping: a port of wan that lan2 never sent to.
    probe = lab.wan.udp_socket(fresh_port())
    probe.sendto(b"probe", seen[0])
    admitted = receive(sock, probes.LOSS_WAIT) is not None
    probe.close()
    sock.close()
    # What an uncontended mapping does: the configured mode, or what the kernel showed (REQ-8).
    behaviour = lab.filtering if lab.target == "gatewayd" else filtering_observed(lab)[0]
    expected = behaviour != "address-and-port-dependent"
    text = (f"with {port} held by lan1, lan2:{port} kept {_ep(seen[0])} towards {where}; a new port of wan was "
            f"{'admitted' if admitted else 'filtered'}")
    return passed(text) if admitted == expected else failed(text + f", unlike an uncontended mapping ({behaviour})")


def _icmp_error_experiment(lab):
    from scapy.layers.inet import ICMP, IP, UDP

    port = fresh_port()
    sock, external = external_of(lab, lab.lan1, port, lab.wan2)
    if external is None:
        return None
    server, server_port = listener(lab.wan2)
    seen_before = seen_from(sock, server, (lab.wan2.address, server_port))
    quoted = IP(src=lab.gateway_wan, dst=lab.wan2.address, ttl=60) / UDP(sport=seen_before[1] if seen_before else port,
                                                                          dport=server_port)
    delivered = {}
    with lab.lan1.capture() as cap:
        # Errors from a router on the path (wan, not the peer) and from the peer itself.
        for name, sender, kind, code in (("host unreachable from a router", lab.wan, 3, 1),
                                         ("port unreachable from the peer", lab.wan2, 3, 3),
                                         ("time exceeded from a router", lab.wan, 11, 0),
                                         ("parameter problem from the peer", lab.wan2, 12, 0)):
            error = IP(src=sender.address, dst=lab.gateway_wan) / ICMP(type=kind, code=code) / bytes(quoted)[:28]
            sender.send_ip(error)
            delivered[name] = bool(cap.wait_for(
                lambda p, kind=kind, code=code: p.haslayer(ICMP) and p[ICMP].type == kind and p[ICMP].code == code,
                probes.LOSS_WAIT))
    after = seen_from(sock, server, (lab.wan2.address, server_port))
    drain_ok = False
    if after:
        server.sendto(b"still mapped", after)
        drain_ok = receive(sock) is not None
    sock.close()
    server.close()
    return {"before": seen_before, "after": after, "inbound_after": drain_ok, "delivered": delivered}


_icmp = probes.memo(_icmp_error_experiment)


@requirement(RFC, "REQ-12", "MUST", "ICMP does not terminate a mapping")
def icmp_keeps_mapping(lab):
    r = _icmp(lab)
    if r is None:
        return failed("the first datagram never arrived")
    text = (f"after {', '.join(r['delivered'])}: mapping {_ep(r['before'])} → {_ep(r['after'])}, "
            f"the peer's datagram {'came in' if r['inbound_after'] else 'was dropped'}")
    ok = r["before"] is not None and r["before"] == r["after"] and r["inbound_after"]
    return passed(text) if ok else failed(text)


@requirement(RFC, "REQ-12a", "SHOULD", "ICMP not filtered by its source address")
def icmp_any_source(lab):
    r = _icmp(lab)
    if r is None:
        return failed("the first datagram never arrived")
    delivered = r["delivered"]["host unreachable from a router"]
    text = f"host unreachable from a router on the path (not the peer): {'delivered' if delivered else 'dropped'}"
    return passed(text) if delivered else failed(text)


@requirement(RFC, "REQ-12b", "RECOMMENDED", "ICMP destination unreachable supported")
def icmp_unreachable(lab):
    r = _icmp(lab)
    if r is None:
        return failed("the first datagram never arrived")
    delivered = r["delivered"]["port unreachable from the peer"]
    text = f"port unreachable from the peer: {'delivered translated to lan1' if delivered else 'dropped'}"
    return passed(text) if delivered else failed(text)


def _mtu_experiment(lab):
    from scapy.layers.inet import ICMP

    mtu = 1400
    server, server_port = listener(lab.wan2)
    df_port, frag_port = fresh_port(), fresh_port()
    body = probes.payload_of(1450, b"m")
    result = {"df_port": df_port}
    with probes.link_mtu(lab.gw, lab.gw.interface, mtu), lab.lan1.capture() as lan_cap, lab.wan2.capture() as wan_cap:
        lab.lan1.send_ip(probes.udp_datagram(lab.lan1.address, lab.wan2.address, df_port, server_port, body, df=True))
        needed = lan_cap.wait_for(lambda p: p.haslayer(ICMP) and p[ICMP].type == 3 and p[ICMP].code == 4,
                                  probes.LOSS_WAIT)
        result["frag_needed"] = None
        if needed:
            icmp = needed[0][ICMP]
            inner = needed[0][ICMP].payload
            quoted_src = getattr(inner, "src", "?")
            quoted_port = getattr(inner.payload, "sport", "?")
            result["frag_needed"] = (icmp.nexthopmtu, quoted_src, quoted_port)
        drop = receive(server, 0.3)
        result["df_delivered"] = drop is not None
        lab.lan1.send_ip(probes.udp_datagram(lab.lan1.address, lab.wan2.address, frag_port, server_port, body))
        got = receive(server, probes.LOSS_WAIT)
        result["delivered"] = got is not None and got[0] == body
        # The datagram is whole at the socket; the capture thread may still be behind: wait for the
        # last fragment (offset > 0, MF clear) to be seen too.
        probes.wait_count(wan_cap, lambda p: p.src == lab.gateway_wan and p.frag > 0 and not p.flags.MF, 1)
        pieces = wan_cap.ip_packets(lambda p: p.src == lab.gateway_wan and (p.flags.MF or p.frag > 0))
        result["offsets"] = [p.frag * 8 for p in pieces]
        result["sizes"] = [p.len for p in pieces]
    server.close()
    lab.lan1.run("ip", "route", "flush", "cache")
    return result


_mtu = probes.memo(_mtu_experiment)


@requirement(RFC, "REQ-13", "MUST", "DF=1 larger than the MTU: Fragmentation Needed to the host")
def frag_needed(lab):
    r = _mtu(lab)
    if not r["frag_needed"]:
        return failed("a 1478-byte DF datagram towards a 1400-byte WAN link got no Fragmentation Needed")
    mtu, src, port = r["frag_needed"]
    text = f"Fragmentation Needed, next-hop MTU {mtu}, quoting {src}:{port}"
    ok = mtu == 1400 and src == lab.lan1.address and port == r["df_port"]
    return passed(text) if ok else failed(text + f" (lan1 sent from {lab.lan1.address}:{r['df_port']})")


@requirement(RFC, "REQ-13a", "MUST", "DF=0 larger than the MTU: fragmented (SHOULD be in order)")
def fragmented_out(lab):
    r = _mtu(lab)
    text = (f"a 1478-byte datagram over a 1400-byte link left in {len(r['offsets'])} fragments, offsets "
            f"{r['offsets']}, {'reassembled intact' if r['delivered'] else 'not delivered'}")
    ok = r["delivered"] and len(r["offsets"]) >= 2 and r["offsets"] == sorted(r["offsets"])
    return passed(text) if ok else failed(text)


def _out_of_order(lab, direction: str) -> tuple[bool, str]:
    body = probes.payload_of(2000, b"f")
    sock = lab.lan1.udp_socket(fresh_port())
    lan_port = sock.getsockname()[1]
    server, server_port = listener(lab.wan)
    try:
        if direction == "outbound":
            # The first packet of a new flow, fragments last first.
            pieces = probes.fragments(probes.udp_datagram(lab.lan1.address, lab.wan.address, lan_port, server_port,
                                                          body, ident=probes.fresh_ident()), 800)
            probes.send_all(lab.lan1, list(reversed(pieces)))
            got = receive(server, probes.LOSS_WAIT)
            return got is not None and got[0] == body, f"outbound {len(pieces)} fragments last-first: " + (
                "arrived" if got else "lost")
        external = seen_from(sock, server, (lab.wan.address, server_port))
        if external is None:
            return False, "inbound: the mapping could not be made"
        pieces = probes.fragments(probes.udp_datagram(lab.wan.address, external[0], server_port, external[1], body,
                                                      ident=probes.fresh_ident()), 800)
        probes.send_all(lab.wan, list(reversed(pieces)))
        got = receive(sock, probes.LOSS_WAIT)
        return got is not None and got[0] == body, f"inbound {len(pieces)} fragments last-first: " + (
            "arrived" if got else "lost")
    finally:
        sock.close()
        server.close()


@requirement(RFC, "REQ-14", "MUST", "Fragments received out of order")
def out_of_order(lab):
    results = [_out_of_order(lab, d) for d in ("outbound", "inbound")]
    text = "; ".join(t for _, t in results)
    return passed(text) if all(ok for ok, _ in results) else failed(text)


@requirement(RFC, "REQ-14a", "MUST", "Fragment floods do not stop in-order and unfragmented packets")
def fragment_flood(lab):
    from scapy.layers.inet import IP

    sock, external = external_of(lab, lab.lan1, fresh_port())
    if external is None:
        return failed("the mapping could not be made")
    server, server_port = listener(lab.wan)
    external = seen_from(sock, server, (lab.wan.address, server_port))
    # 2000 orphan later fragments (no first fragment ever) at the mapping, from the peer itself.
    orphans = [IP(src=lab.wan.address, dst=external[0], id=probes.fresh_ident(), proto=17, frag=100, flags=0)
               / (b"o" * 64) for _ in range(2000)]
    probes.send_all(lab.wan, orphans)
    server.sendto(b"plain", external)
    plain = receive(sock, probes.LOSS_WAIT)
    body = probes.payload_of(2000, b"i")
    pieces = probes.fragments(probes.udp_datagram(lab.wan.address, external[0], server_port, external[1], body,
                                                  ident=probes.fresh_ident()), 800)
    probes.send_all(lab.wan, pieces)
    whole = receive(sock, probes.LOSS_WAIT)
    sock.close()
    server.close()
    text = (f"after 2000 orphan fragments: an unfragmented datagram {'arrived' if plain else 'was lost'}, "
            f"an in-order fragmented one {'arrived' if whole and whole[0] == body else 'was lost'}")
    return passed(text) if plain and whole and whole[0] == body else failed(text)

