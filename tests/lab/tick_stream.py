#!/usr/bin/env python3
"""A long-lived TCP connection for restart tests: the WAN side pushes a numbered line every
100 ms, the LAN side echoes each line back. The server starts every exchange, so a gateway that
lost the connection's flow sees only segments from the WAN and cannot pick it up mid-stream.

  tick_stream.py server --port P --seconds S --result FILE   (WAN host)
  tick_stream.py client --host H --port P --result FILE      (LAN host)

Each side writes one JSON result: lines sent/echoed, the longest wait for an echo, the peer
address the server saw (the external port), and the error that ended it early, if any."""
import argparse
import json
import socket
import time


def _write(path: str, result: dict) -> None:
    with open(path, "w", encoding="utf-8") as out:
        json.dump(result, out)


def server(args: argparse.Namespace) -> int:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", args.port))
    listener.listen(1)
    print("listening", flush=True)
    conn, peer = listener.accept()
    result = {"peer": f"{peer[0]}:{peer[1]}", "sent": 0, "echoed": 0, "max_gap": 0.0, "error": None}
    conn.settimeout(0.05)
    buffered = b""
    end = time.monotonic() + args.seconds
    next_tick = time.monotonic()
    last_echo = time.monotonic()
    try:
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_tick:
                conn.sendall(f"tick {result['sent']}\n".encode())
                result["sent"] += 1
                next_tick += 0.1
            try:
                data = conn.recv(4096)
                if not data:
                    result["error"] = "closed by the client"
                    break
                buffered += data
            except socket.timeout:
                pass
            while b"\n" in buffered:
                line, buffered = buffered.split(b"\n", 1)
                if line != f"tick {result['echoed']}".encode():
                    result["error"] = f"echo out of order: {line!r}"
                    break
                result["echoed"] += 1
                now = time.monotonic()
                result["max_gap"] = max(result["max_gap"], round(now - last_echo, 3))
                last_echo = now
            if result["error"]:
                break
            result["max_gap"] = max(result["max_gap"], round(time.monotonic() - last_echo, 3))
    except OSError as e:
        result["error"] = f"{type(e).__name__}: {e}"
    conn.close()
    _write(args.result, result)
    return 0


def client(args: argparse.Namespace) -> int:
    result = {"echoed": 0, "error": None}
    try:
        conn = socket.create_connection((args.host, args.port), timeout=5)
        conn.settimeout(None)
        buffered = b""
        while True:
            data = conn.recv(4096)
            if not data:
                break
            buffered += data
            while b"\n" in buffered:
                line, buffered = buffered.split(b"\n", 1)
                conn.sendall(line + b"\n")
                result["echoed"] += 1
    except OSError as e:
        result["error"] = f"{type(e).__name__}: {e}"
    _write(args.result, result)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    s = commands.add_parser("server")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--seconds", type=float, required=True)
    s.add_argument("--result", required=True)
    c = commands.add_parser("client")
    c.add_argument("--host", required=True)
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--result", required=True)
    args = parser.parse_args()
    return server(args) if args.command == "server" else client(args)


if __name__ == "__main__":
    raise SystemExit(main())
