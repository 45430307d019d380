#!/usr/bin/env python3
"""A hostile LAN client of the IGD's HTTP port, with raw sockets (issue 14): each command
crafts what a well-behaved client library would never send and prints what came back.

  smuggle URL VARIANT KIND [--callback URL]   one request disguised as VARIANT (crlf: leading
      blank lines; tab: TABs for the spaces; split: the head cut into 3-byte segments sent
      apart; pipelined: a good GET then the hostile request in the same segment), KIND host
      (Host: evil.example) or callback (a SUBSCRIBE with the given CALLBACK); prints the
      first status line, or "no answer (...)"
  chunked URL --mib N [--keep-sending]   a POST with Transfer-Encoding: chunked, then N MiB of
      chunks as fast as the socket takes them (until an answer comes, or with --keep-sending
      until the socket fails); prints the status line and the bytes it got to send
  length-lie URL KIND       Content-Length lies: short (declares 10, sends 400 bytes),
      twice (two different Content-Length headers); prints the status line
  trickle URL --count N --seconds S   N connections, each sending a POST head then one
      body byte a second, for S seconds; prints how each ended ("408", "503", "open")
  subscribe-flood URL --count N --callback URL   N SUBSCRIBEs (8 at a time) asking
      TIMEOUT: Second-infinite; prints "status count" lines
"""
import argparse
import select
import socket
import sys
import threading
import time
from collections import Counter
from urllib.parse import urlsplit


def _connect(url, timeout=5.0):
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock, parts


def _status(sock, timeout=5.0):
    sock.settimeout(timeout)
    answer = b""
    try:
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    except OSError as error:
        if not answer:
            return f"no answer ({error})"
    if not answer:
        return "no answer (closed)"
    return answer.split(b"\r\n", 1)[0].decode(errors="replace")


def smuggle(args):
    sock, url = _connect(args.url)
    netloc = url.netloc
    if args.kind == "host":
        method, headers = "GET", ["Host: evil.example:" + str(url.port)]
    else:
        method, headers = "SUBSCRIBE", [f"Host: {netloc}", f"CALLBACK: <{args.callback}>", "NT: upnp:event",
                                        "TIMEOUT: Second-300"]
    sep = "\t" if args.variant == "tab" else " "
    colon = ":\t" if args.variant == "tab" else ": "
    lines = [f"{method}{sep}{url.path}{sep}HTTP/1.1"] + [h.replace(": ", colon, 1) for h in headers]
    request = "\r\n".join(lines) + "\r\n\r\n"
    if args.variant == "crlf":
        request = "\r\n\r\n\r\n" + request
    if args.variant == "pipelined":
        request = f"GET {url.path} HTTP/1.1\r\nHost: {netloc}\r\n\r\n" + request
    data = request.encode()
    if args.variant == "split":
        for i in range(0, len(data), 3):
            sock.sendall(data[i:i + 3])
            time.sleep(0.01)
    else:
        sock.sendall(data)
    print(_status(sock))
    return 0


def chunked(args):
    sock, url = _connect(args.url)
    head = (f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: text/xml\r\n"
            "SOAPAction: \"urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping\"\r\n"
            "Transfer-Encoding: chunked\r\n\r\n").encode()
    chunk = b"10000\r\n" + b"<" * 0x10000 + b"\r\n"
    sent, limit = 0, args.mib << 20
    sock.settimeout(5)
    try:
        sock.sendall(head)
        # Sends until the gateway answers (or the MiB are out): an answer before the body
        # is the refusal this is about.
        while sent < limit and (args.keep_sending or not select.select([sock], [], [], 0)[0]):
            sock.sendall(chunk)
            sent += 0x10000
    except OSError:
        pass
    print(f"{_status(sock, 2)} after {sent} body bytes")
    return 0


def length_lie(args):
    sock, url = _connect(args.url)
    base = f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: text/xml\r\n"
    body = "<a>" + "x" * 393 + "</a>"
    if args.kind == "short":
        request = base + "Content-Length: 10\r\n\r\n" + body
    else:
        request = base + f"Content-Length: {len(body)}\r\nContent-Length: 10\r\n\r\n" + body
    sock.sendall(request.encode())
    print(_status(sock))
    return 0


def trickle(args):
    results = ["open"] * args.count
    head = None

    def one(i):
        nonlocal head
        try:
            sock, url = _connect(args.url, timeout=args.seconds + 5)
            head = (f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Length: 1000\r\n\r\n").encode()
            sock.sendall(head)
            sock.setblocking(False)
            end = time.monotonic() + args.seconds
            while time.monotonic() < end:
                try:
                    data = sock.recv(4096)
                    if data:
                        results[i] = data.split(b"\r\n", 1)[0].split()[1].decode()
                    else:
                        results[i] = results[i] if results[i] != "open" else "closed"
                    break
                except BlockingIOError:
                    pass
                try:
                    sock.send(b"x")
                except OSError:
                    results[i] = "reset"
                    break
                time.sleep(1)
            sock.close()
        except OSError as error:
            results[i] = f"error:{error.errno}"

    threads = [threading.Thread(target=one, args=(i,)) for i in range(args.count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for status, n in sorted(Counter(results).items()):
        print(f"{status} {n}")
    return 0


def subscribe_flood(args):
    counts = Counter()
    lock = threading.Lock()
    todo = iter(range(args.count))

    def worker():
        while True:
            with lock:
                if next(todo, None) is None:
                    return
            try:
                sock, url = _connect(args.url)
                sock.sendall((f"SUBSCRIBE {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                              f"CALLBACK: <{args.callback}>\r\nNT: upnp:event\r\nTIMEOUT: Second-infinite\r\n\r\n").encode())
                status = _status(sock)
                sock.close()
                status = status.split()[1] if status.startswith("HTTP/") else "none"
            except OSError:
                status = "none"
            with lock:
                counts[status] += 1

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for status, n in sorted(counts.items()):
        print(f"{status} {n}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    c = commands.add_parser("smuggle")
    c.add_argument("url")
    c.add_argument("variant", choices=["crlf", "tab", "split", "pipelined"])
    c.add_argument("kind", choices=["host", "callback"])
    c.add_argument("--callback", default="http://203.0.113.2:8000/")
    c.set_defaults(run=smuggle)
    c = commands.add_parser("chunked")
    c.add_argument("url")
    c.add_argument("--mib", type=int, default=300)
    c.add_argument("--keep-sending", action="store_true", help="ignore an early answer: push until the socket fails")
    c.set_defaults(run=chunked)
    c = commands.add_parser("length-lie")
    c.add_argument("url")
    c.add_argument("kind", choices=["short", "twice"])
    c.set_defaults(run=length_lie)
    c = commands.add_parser("trickle")
    c.add_argument("url")
    c.add_argument("--count", type=int, default=12)
    c.add_argument("--seconds", type=int, default=14)
    c.set_defaults(run=trickle)
    c = commands.add_parser("subscribe-flood")
    c.add_argument("url")
    c.add_argument("--count", type=int, default=2000)
    c.add_argument("--callback", required=True)
    c.set_defaults(run=subscribe_flood)
    args = parser.parse_args()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
