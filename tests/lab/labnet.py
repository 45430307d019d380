#!/usr/bin/env python3
"""Small network peers for the gatewayd lab, run inside the lab's namespaces by lab.sh users.

Every server answers with the address it saw the request come from, so a test run on the LAN host
can see the translation the NAT applied without capturing packets. Standard library only: the lab
must run wherever python3 does.

  http-peer --port P              HTTP server; every GET is answered with "<peer ip>:<peer port>"
  udp-echo --port P               UDP server; every datagram is answered with "<peer ip>:<peer port>"
  udp-ask HOST:PORT...            from ONE socket, ask each udp-echo server; prints
                                  "<server> <what it saw>" per server; exit 1 if one stays silent
  udp-send HOST PORT TEXT         send TEXT once (fire and forget); --source-port fixes the sender's port
  tcp-send HOST PORT TEXT         connect and send TEXT; exit 1 if the connection fails; --source-port too
  listen-log --port P --log FILE  accept UDP and TCP on P; append "<proto> <peer> <text>" per arrival;
                                  --hello HOST:PORT first sends one datagram from the UDP socket, so a
                                  NAT opens a mapping for the very socket that listens (its answer is
                                  logged like any arrival)
  sniff --interface IF --log FILE every IPv4 packet arriving on IF (not those the host sends), one line
                                  "<proto> <src> > <dst> [tcp flags]" each; --port P (repeatable) keeps
                                  only TCP/UDP with P at either end. Prints "sniffing" once it is bound
  ping HOST [--count N]           ICMP echo over a raw socket (iputils ping is not a lab dependency);
                                  exit 0 only if every request was answered
  json-get KEY.KEY...             print one value of the JSON document on stdin (for iperf3 -J);
                                  a number as KEY indexes a list (queues.1.received)
  line-echo --port P              TCP server; every line is answered with "<peer ip>:<peer port> <line>"
  line-talk HOST PORT LINE...     connect, send each LINE and read its answer; prints the answers;
                                  --count N --size S then sends N more lines of S characters, each
                                  answer checked; exit 1 if an answer is missing or wrong
  rtp-peer --port P --peer H:P    UDP, RTP-like: --count packets of --size bytes (12-byte RTP header,
                                  sequence numbers from 0) every --interval s to the peer, while
                                  counting what arrives; --wait-for-peer sends only once the peer's
                                  first packet arrived. Prints "sent=N received=M from=<sources>
                                  bad_size=K missing_seq=J" once both ends are done (idle --linger s)
  tcp-meet --port P --peer H:P    TCP hole punching: connect from port P to the peer's external endpoint
                                  while the peer connects to ours (both SYNs cross: a simultaneous open),
                                  retrying until --timeout; then send "hello" and read the peer's.
                                  Prints "connected to <peer>; got <line> from <ip:port>"
  file-recv --port P --out FILE   accept one TCP connection, write what it sends to FILE, print
                                  "<peer> <bytes> <sha256>" and exit
  file-send HOST PORT FILE        connect and send FILE; exit 1 if that fails
"""

import argparse
import hashlib
import http.server
import json
import os
import selectors
import socket
import socketserver
import struct
import sys
import time


def _peer_text(address: tuple) -> bytes:
    return f"{address[0]}:{address[1]}".encode()


class _PeerHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (name fixed by http.server)
        body = _peer_text(self.client_address) + b"\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (signature fixed by http.server)
        # One line per request on stderr, which lab_bg sends to a log file: handy when a test fails.
        sys.stderr.write(f"http-peer: {self.client_address[0]}:{self.client_address[1]} {format % args}\n")


def http_peer(args: argparse.Namespace) -> int:
    server = http.server.ThreadingHTTPServer((args.bind, args.port), _PeerHandler)
    server.serve_forever()
    return 0


def udp_echo(args: argparse.Namespace) -> int:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((args.bind, args.port))
    while True:
        _, peer = sock.recvfrom(2048)
        sock.sendto(_peer_text(peer), peer)


def _parse_endpoint(text: str) -> tuple:
    host, _, port = text.rpartition(":")
    return host, int(port)


def udp_ask(args: argparse.Namespace) -> int:
    # One socket for all servers on purpose: RFC 4787 REQ-1 (endpoint-independent mapping) is about
    # one internal endpoint talking to several external ones.
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", args.source_port))
    sock.settimeout(args.timeout)
    missing = 0
    for target in args.targets:
        server = _parse_endpoint(target)
        sock.sendto(b"who am i", server)
        try:
            while True:
                data, sender = sock.recvfrom(2048)
                if sender == server:
                    break
        except socket.timeout:
            print(f"{target} <no reply within {args.timeout}s>")
            missing += 1
            continue
        print(f"{target} {data.decode(errors='replace')}")
    return 1 if missing else 0


def udp_send(args: argparse.Namespace) -> int:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", args.source_port))
    sock.sendto(args.text.encode(), (args.host, args.port))
    return 0


def tcp_send(args: argparse.Namespace) -> int:
    try:
        # A fixed source port makes the probe findable in a log; SO_REUSEADDR lets it be reused
        # while an earlier connection from it sits in TIME_WAIT.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("0.0.0.0", args.source_port))
            sock.settimeout(args.timeout)
            sock.connect((args.host, args.port))
            sock.sendall(args.text.encode())
    except OSError as error:
        print(f"tcp-send: {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0


def _log_arrival(log_path: str, proto: str, peer: tuple, data: bytes) -> None:
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"{proto} {peer[0]}:{peer[1]} {data.decode(errors='replace')}\n")


def _http_incomplete(data: bytes) -> bool:
    """True for the start of an HTTP message whose headers or Content-Length body are not all here."""
    if not data.startswith((b"NOTIFY ", b"POST ", b"GET ", b"HTTP/")):
        return False
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        return True
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                return len(body) < int(value.strip())
            except ValueError:
                return False
    return False


def listen_log(args: argparse.Namespace) -> int:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((args.bind, args.port))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((args.bind, args.port))
    tcp.listen()
    if args.hello:
        udp.sendto(b"hello", _parse_endpoint(args.hello))
    selector = selectors.DefaultSelector()
    selector.register(udp, selectors.EVENT_READ)
    selector.register(tcp, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj is udp:
                data, peer = udp.recvfrom(2048)
                _log_arrival(args.log, "udp", peer, data)
                continue
            conn, peer = tcp.accept()
            conn.settimeout(2)
            data = b""
            try:
                data = conn.recv(2048)
                # An HTTP message (GENA's NOTIFY) may come in several segments: headers
                # first, the body after. Read it whole, or the log holds only its headers.
                while _http_incomplete(data):
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                pass
            conn.close()
            _log_arrival(args.log, "tcp", peer, data)


ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
_TCP_FLAG_LETTERS = ((0x02, "S"), (0x10, "A"), (0x01, "F"), (0x04, "R"), (0x08, "P"), (0x20, "U"))


def _describe_ipv4(packet: bytes, ports: set) -> "str | None":
    """One sniff line for an IPv4 packet, or None if --port filters it out."""
    if len(packet) < 20 or packet[0] >> 4 != 4:
        return None
    header_length = (packet[0] & 0x0F) * 4
    protocol = packet[9]
    source = socket.inet_ntoa(packet[12:16])
    destination = socket.inet_ntoa(packet[16:20])
    layer4 = packet[header_length:]
    later_fragment = struct.unpack("!H", packet[6:8])[0] & 0x1FFF
    names = {1: "icmp", 6: "tcp", 17: "udp"}
    name = names.get(protocol, str(protocol))
    if protocol in (6, 17) and not later_fragment and len(layer4) >= 4:
        source_port, destination_port = struct.unpack("!HH", layer4[:4])
        if ports and source_port not in ports and destination_port not in ports:
            return None
        line = f"{name} {source}:{source_port} > {destination}:{destination_port}"
        if protocol == 6 and len(layer4) >= 14:
            line += " " + ("".join(letter for bit, letter in _TCP_FLAG_LETTERS if layer4[13] & bit) or "none")
        return line
    if ports:
        return None
    if protocol == 1 and not later_fragment and len(layer4) >= 2:
        return f"{name} {source} > {destination} type {layer4[0]} code {layer4[1]}"
    return f"{name} {source} > {destination}"


def sniff(args: argparse.Namespace) -> int:
    # AF_PACKET sees a packet before any socket lookup: it shows what reached the host even when
    # nothing listens, or a SYN whose handshake never completes. One per host, unlike tshark.
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    sock.bind((args.interface, ETH_P_IP))
    print(f"sniffing on {args.interface}", flush=True)
    ports = set(args.port)
    while True:
        packet, address = sock.recvfrom(65535)
        if address[2] == PACKET_OUTGOING:
            continue
        line = _describe_ipv4(packet, ports)
        if line is not None:
            with open(args.log, "a", encoding="utf-8") as log:
                log.write(line + "\n")


class _LineEchoHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        peer = _peer_text(self.client_address)
        for line in self.rfile:
            self.wfile.write(peer + b" " + line.rstrip(b"\r\n") + b"\n")


def line_echo(args: argparse.Namespace) -> int:
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.daemon_threads = True
    with socketserver.ThreadingTCPServer((args.bind, args.port), _LineEchoHandler) as server:
        server.serve_forever()
    return 0


def line_talk(args: argparse.Namespace) -> int:
    try:
        with socket.create_connection((args.host, args.port), timeout=args.timeout) as sock:
            replies = sock.makefile("rb")
            lines = list(args.lines) + [f"{n:06d} " + "x" * max(args.size - 7, 0) for n in range(args.count)]
            for number, line in enumerate(lines):
                sock.sendall(line.encode() + b"\n")
                answer = replies.readline().decode(errors="replace").rstrip("\n")
                peer, _, echoed = answer.partition(" ")
                if echoed != line:
                    print(f"line-talk: answer {number} was {answer[:80]!r}, expected '<peer> {line[:60]}'", file=sys.stderr)
                    return 1
                if number < len(args.lines):
                    print(answer)
            if args.count:
                print(f"exchanged {args.count} lines of {args.size} characters; the server saw {peer}")
    except OSError as error:
        print(f"line-talk: {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0


RTP_HEADER = struct.Struct("!BBHII")  # V/P/X/CC, M/PT, sequence number, timestamp, SSRC


def rtp_peer(args: argparse.Namespace) -> int:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", args.port))
    peer = _parse_endpoint(args.peer)
    print(f"rtp-peer bound to {args.port}", flush=True)
    payload = bytes(max(args.size - RTP_HEADER.size, 0))
    received, sources, bad_size, sequence_numbers = 0, set(), 0, set()
    sent, next_send, last_activity = 0, time.monotonic(), time.monotonic()
    started = not args.wait_for_peer
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        now = time.monotonic()
        if started and sent < args.count and now >= next_send:
            # Payload type 0 (PCMU), 160 samples per 20 ms packet: what a G.711 call sends.
            sock.sendto(RTP_HEADER.pack(0x80, 0, sent, sent * 160, 0x4D534E) + payload, peer)
            sent += 1
            next_send = now + args.interval
            last_activity = now
        if sent == args.count and received >= args.count:
            break
        if sent == args.count and now - last_activity > args.linger:
            break
        wait = next_send - now if started and sent < args.count else args.linger
        sock.settimeout(max(min(wait, args.linger), 0.001))
        try:
            data, sender = sock.recvfrom(2048)
        except socket.timeout:
            continue
        started = True
        last_activity = time.monotonic()
        received += 1
        sources.add(f"{sender[0]}:{sender[1]}")
        if len(data) != args.size:
            bad_size += 1
        elif data[0] == 0x80:
            sequence_numbers.add(RTP_HEADER.unpack(data[:RTP_HEADER.size])[2])
    missing = len(set(range(args.count)) - sequence_numbers)
    print(f"sent={sent} received={received} from={','.join(sorted(sources)) or '-'} bad_size={bad_size} missing_seq={missing}")
    return 0


def tcp_meet(args: argparse.Namespace) -> int:
    peer = _parse_endpoint(args.peer)
    deadline = time.monotonic() + args.timeout
    while True:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # The port held the connection that learnt its mapping: it may sit in TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("0.0.0.0", args.port))
        sock.settimeout(max(deadline - time.monotonic(), 0.1))
        try:
            sock.connect(peer)
            break
        except OSError as error:
            sock.close()
            if time.monotonic() + 0.1 >= deadline:
                print(f"tcp-meet: {args.peer}: {error}", file=sys.stderr)
                return 1
            time.sleep(0.1)
    with sock:
        sock.settimeout(max(deadline - time.monotonic(), 0.5))
        sock.sendall(b"hello\n")
        line = sock.makefile("rb").readline().decode(errors="replace").strip()
        source = sock.getpeername()
    print(f"connected to {args.peer}; got {line} from {source[0]}:{source[1]}")
    return 0


def file_recv(args: argparse.Namespace) -> int:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((args.bind, args.port))
    server.listen(1)
    conn, peer = server.accept()
    digest, size = hashlib.sha256(), 0
    with conn, open(args.out, "wb") as out:
        while chunk := conn.recv(65536):
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    print(f"{peer[0]}:{peer[1]} {size} {digest.hexdigest()}", flush=True)
    return 0


def file_send(args: argparse.Namespace) -> int:
    try:
        with socket.create_connection((args.host, args.port), timeout=args.timeout) as sock, open(args.file, "rb") as data:
            sock.sendfile(data)
            sock.shutdown(socket.SHUT_WR)
            sock.recv(1)  # wait for the receiver to close: everything arrived
    except OSError as error:
        print(f"file-send: {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0


ICMP_ECHO_REPLY = 0
ICMP_ECHO_REQUEST = 8


def _inet_checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def _echo_request(ident: int, seq: int) -> bytes:
    payload = b"gatewayd-lab-ping"
    header = struct.pack("!BBHHH", ICMP_ECHO_REQUEST, 0, 0, ident, seq)
    checksum = _inet_checksum(header + payload)
    return struct.pack("!BBHHH", ICMP_ECHO_REQUEST, 0, checksum, ident, seq) + payload


def _await_echo_reply(sock: socket.socket, host: str, ident: int, seq: int, deadline: float) -> bool:
    # A raw socket sees every ICMP message of the namespace: keep only our reply.
    while (remaining := deadline - time.monotonic()) > 0:
        sock.settimeout(remaining)
        try:
            packet, sender = sock.recvfrom(2048)
        except socket.timeout:
            return False
        icmp = packet[(packet[0] & 0x0F) * 4:]
        if sender[0] != host or len(icmp) < 8:
            continue
        kind, _, _, reply_ident, reply_seq = struct.unpack("!BBHHH", icmp[:8])
        if kind == ICMP_ECHO_REPLY and reply_ident == ident and reply_seq == seq:
            return True
    return False


def ping(args: argparse.Namespace) -> int:
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident = args.ident if args.ident is not None else os.getpid() & 0xFFFF
    received = 0
    for seq in range(1, args.count + 1):
        started = time.monotonic()
        sock.sendto(_echo_request(ident, seq), (args.host, 0))
        if _await_echo_reply(sock, args.host, ident, seq, started + args.timeout):
            received += 1
            print(f"reply from {args.host}: icmp_seq={seq} time={(time.monotonic() - started) * 1000:.2f} ms")
        else:
            print(f"no reply from {args.host}: icmp_seq={seq} within {args.timeout}s")
        if seq < args.count:
            time.sleep(args.interval)
    print(f"{args.count} sent, {received} received")
    return 0 if received == args.count else 1


def json_get(args: argparse.Namespace) -> int:
    value = json.load(sys.stdin)
    for key in args.path.split("."):
        value = value[int(key)] if isinstance(value, list) else value[key]
    print(value)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    for name, run in (("http-peer", http_peer), ("udp-echo", udp_echo)):
        server = commands.add_parser(name)
        server.add_argument("--bind", default="0.0.0.0")
        server.add_argument("--port", type=int, required=True)
        server.set_defaults(run=run)

    ask = commands.add_parser("udp-ask")
    ask.add_argument("--timeout", type=float, default=2.0)
    ask.add_argument("--source-port", type=int, default=0)
    ask.add_argument("targets", nargs="+", metavar="HOST:PORT")
    ask.set_defaults(run=udp_ask)

    for name, run in (("udp-send", udp_send), ("tcp-send", tcp_send)):
        sender = commands.add_parser(name)
        sender.add_argument("--timeout", type=float, default=2.0)
        sender.add_argument("--source-port", type=int, default=0)
        sender.add_argument("host")
        sender.add_argument("port", type=int)
        sender.add_argument("text")
        sender.set_defaults(run=run)

    listen = commands.add_parser("listen-log")
    listen.add_argument("--bind", default="0.0.0.0")
    listen.add_argument("--port", type=int, required=True)
    listen.add_argument("--log", required=True)
    listen.add_argument("--hello", metavar="HOST:PORT")
    listen.set_defaults(run=listen_log)

    sniffer = commands.add_parser("sniff")
    sniffer.add_argument("--interface", required=True)
    sniffer.add_argument("--log", required=True)
    sniffer.add_argument("--port", type=int, action="append", default=[])
    sniffer.set_defaults(run=sniff)

    echo = commands.add_parser("ping")
    echo.add_argument("--count", type=int, default=3)
    echo.add_argument("--interval", type=float, default=0.2)
    echo.add_argument("--timeout", type=float, default=1.0)
    echo.add_argument("--ident", type=int, help="echo identifier (default: the process id)")
    echo.add_argument("host")
    echo.set_defaults(run=ping)

    echo_lines = commands.add_parser("line-echo")
    echo_lines.add_argument("--bind", default="0.0.0.0")
    echo_lines.add_argument("--port", type=int, required=True)
    echo_lines.set_defaults(run=line_echo)

    talk = commands.add_parser("line-talk")
    talk.add_argument("--timeout", type=float, default=3.0)
    talk.add_argument("--count", type=int, default=0)
    talk.add_argument("--size", type=int, default=100)
    talk.add_argument("host")
    talk.add_argument("port", type=int)
    talk.add_argument("lines", nargs="*")
    talk.set_defaults(run=line_talk)

    rtp = commands.add_parser("rtp-peer")
    rtp.add_argument("--port", type=int, required=True)
    rtp.add_argument("--peer", required=True, metavar="HOST:PORT")
    rtp.add_argument("--count", type=int, default=100)
    rtp.add_argument("--size", type=int, default=172)
    rtp.add_argument("--interval", type=float, default=0.02)
    rtp.add_argument("--wait-for-peer", action="store_true")
    rtp.add_argument("--linger", type=float, default=1.0)
    rtp.add_argument("--timeout", type=float, default=15.0)
    rtp.set_defaults(run=rtp_peer)

    meet = commands.add_parser("tcp-meet")
    meet.add_argument("--port", type=int, required=True)
    meet.add_argument("--peer", required=True, metavar="HOST:PORT")
    meet.add_argument("--timeout", type=float, default=5.0)
    meet.set_defaults(run=tcp_meet)

    receive = commands.add_parser("file-recv")
    receive.add_argument("--bind", default="0.0.0.0")
    receive.add_argument("--port", type=int, required=True)
    receive.add_argument("--out", required=True)
    receive.set_defaults(run=file_recv)

    send_file = commands.add_parser("file-send")
    send_file.add_argument("--timeout", type=float, default=10.0)
    send_file.add_argument("host")
    send_file.add_argument("port", type=int)
    send_file.add_argument("file")
    send_file.set_defaults(run=file_send)

    get = commands.add_parser("json-get")
    get.add_argument("path", metavar="KEY.KEY...")
    get.set_defaults(run=json_get)
    return parser


def main() -> int:
    args = _parser().parse_args()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
