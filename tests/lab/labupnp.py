#!/usr/bin/python3
"""A UPnP IGD client for the gatewayd lab: python3-miniupnpc (the miniupnpc library's own Python
binding, what many applications embed), run on a LAN host by lab_upnp.sh users and the benchmark.

Every command but `discover` and `http` talks to one IGD: --url ROOT-DESC-URL skips SSDP (as upnpc -u
does), without it the IGD is discovered first. Errors (from the IGD, or a socket's)
are printed as "error: <miniupnpc's text>" and exit 2.

  discover                        SSDP discovery and selectigd(); prints key=value lines: devices,
                                  control_url, lan_address, external_ip, connection_type, status
  add EXT PROTO INT-PORT          AddPortMapping to --client (default: this host's LAN address),
                                  --lease S (0 = as long as the IGD allows), --desc, --remote HOST
  add-any EXT PROTO INT-PORT      AddAnyPortMapping (IGD:2); prints the external port granted
                                  (python3-miniupnpc sends lease 0, i.e. the IGD's longest)
  get EXT PROTO                   GetSpecificPortMappingEntry: "<client>:<port> <lease> '<desc>'";
                                  exit 3 if the IGD has no such mapping
  list                            GetGenericPortMappingEntry from index 0 until the IGD says no more:
                                  one line "<PROTO> <ext> <client>:<port> <lease> '<desc>'" each
  delete EXT PROTO                DeletePortMapping; exit 3 if the IGD has no such mapping
  bench --count N                 N AddPortMapping, a full GetGenericPortMappingEntry walk, N
                                  DeletePortMapping; prints one JSON object of counts and seconds
  flood CONTROL-URL --count N     N AddPortMapping (raw SOAP) to this host (TCP, --first-port up), as
                                  fast as the IGD answers; prints one JSON object: granted, refused
                                  by UPnP error code, seconds
  soap CONTROL-URL ACTION         one raw SOAP request (--arg NAME=VALUE repeatable, or --body for the
                                  whole POST body, --pad N bytes of padding in the envelope,
                                  --content-length to declare another length); prints the HTTP
                                  status code and the UPnP errorCode ("200 -", "500 402"), or
                                  "no answer (...)" and exit 1
  http URL                        one raw HTTP request (--method, --header "Name: value" repeatable,
                                  --host overrides Host); prints the status line, or "no answer"
                                  and exit 1 within --timeout
  ssdp-search HOST                one M-SEARCH to HOST:1900 (unicast, or 239.255.255.250 from
                                  --interface-address); prints each answer's first line and LOCATION,
                                  exit 1 if none arrives within --timeout
"""

import argparse
import json
import socket
import sys
import time

# What miniupnpc's strupnperror() prints when the IGD has no such mapping (UPnP error 714), and the
# error it raises when GetGenericPortMappingEntry runs past the end (713).
NO_SUCH_ENTRY = "NoSuchEntryInArray"
INDEX_OUT_OF_BOUNDS = "SpecifiedArrayIndexInvalid"


def _igd(args: argparse.Namespace):
    import miniupnpc  # only here: the stdlib-only commands run anywhere

    upnp = miniupnpc.UPnP()
    upnp.discoverdelay = args.discover_ms
    if args.url:
        upnp.selectigd(args.url)
    else:
        if upnp.discover() == 0:
            raise RuntimeError("no UPnP device answered the SSDP search")
        upnp.selectigd()
    return upnp


def discover(args: argparse.Namespace) -> int:
    import miniupnpc

    upnp = miniupnpc.UPnP()
    upnp.discoverdelay = args.discover_ms
    devices = upnp.discover()
    print(f"devices={devices}")
    if devices == 0:
        return 1
    print(f"control_url={upnp.selectigd()}")
    print(f"lan_address={upnp.lanaddr}")
    print(f"external_ip={upnp.externalipaddress()}")
    print(f"connection_type={upnp.connectiontype()}")
    print(f"status={' '.join(str(field) for field in upnp.statusinfo())}")
    return 0


def add(args: argparse.Namespace) -> int:
    upnp = _igd(args)
    client = args.client or upnp.lanaddr
    # addportmapping(ext, proto, int_host, int_port, desc, remote_host, lease)
    upnp.addportmapping(args.external_port, args.protocol, client, args.internal_port, args.desc, args.remote, args.lease)
    return 0


def add_any(args: argparse.Namespace) -> int:
    upnp = _igd(args)
    client = args.client or upnp.lanaddr
    # python3-miniupnpc 2.2 sends no lease with AddAnyPortMapping (its NewLeaseDuration is 0: the
    # IGD's longest), hence no --lease here.
    granted = upnp.addanyportmapping(args.external_port, args.protocol, client, args.internal_port, args.desc, args.remote)
    print(granted)
    return 0


def get(args: argparse.Namespace) -> int:
    upnp = _igd(args)
    entry = upnp.getspecificportmapping(args.external_port, args.protocol)
    if entry is None:
        print("none")
        return 3
    client, port, desc, _enabled, lease = entry
    print(f"{client}:{port} {lease} '{desc}'")
    return 0


def _walk(upnp) -> list:
    entries = []
    while True:
        try:
            entry = upnp.getgenericportmapping(len(entries))
        except Exception as error:  # noqa: BLE001 (miniupnpc raises bare Exception)
            if INDEX_OUT_OF_BOUNDS in str(error):
                return entries
            raise
        if entry is None:  # miniupnpc returns None for 713 in some versions
            return entries
        entries.append(entry)


def list_mappings(args: argparse.Namespace) -> int:
    for ext, proto, (client, port), desc, _enabled, _remote, lease in _walk(_igd(args)):
        print(f"{proto} {ext} {client}:{port} {lease} '{desc}'")
    return 0


def delete(args: argparse.Namespace) -> int:
    upnp = _igd(args)
    try:
        upnp.deleteportmapping(args.external_port, args.protocol, args.remote)
    except Exception as error:  # noqa: BLE001
        if NO_SUCH_ENTRY in str(error):
            print("none")
            return 3
        raise
    return 0


def bench(args: argparse.Namespace) -> int:
    upnp = _igd(args)
    client = upnp.lanaddr
    ports = range(args.first_port, args.first_port + args.count)
    result = {"count": args.count}
    started = time.perf_counter()
    for port in ports:
        upnp.addportmapping(port, args.protocol, client, port, "bench", "", args.lease)
    result["add_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    listed = len(_walk(upnp))
    result["list_seconds"] = time.perf_counter() - started
    result["listed"] = listed
    started = time.perf_counter()
    for port in ports:
        upnp.deleteportmapping(port, args.protocol, "")
    result["delete_seconds"] = time.perf_counter() - started
    result["left_after_delete"] = len(_walk(upnp))
    print(json.dumps(result))
    return 0


def flood(args: argparse.Namespace) -> int:
    # Raw SOAP rather than python3-miniupnpc, whose strupnperror() turns 728 into "UnknownError".
    from urllib.parse import urlsplit

    host = urlsplit(args.control_url).hostname
    with socket.create_connection((host, urlsplit(args.control_url).port or 80)) as probe:
        client = probe.getsockname()[0]
    granted, refused = 0, {}
    started = time.perf_counter()
    for port in range(args.first_port, args.first_port + args.count):
        args.arg = [f"NewRemoteHost=", f"NewExternalPort={port}", "NewProtocol=TCP", f"NewInternalPort={port}",
                    f"NewInternalClient={client}", "NewEnabled=1", "NewPortMappingDescription=flood",
                    "NewLeaseDuration=3600"]
        status, code = _soap_exchange(args, "AddPortMapping")
        if status == "200":
            granted += 1
        else:
            refused[code] = refused.get(code, 0) + 1
    print(json.dumps({"granted": granted, "refused": refused, "seconds": time.perf_counter() - started}))
    return 0


def _soap_body(args: argparse.Namespace, action: str) -> str:
    if args.body is not None:
        return args.body
    service = args.service
    arguments = "".join(f"<{name}>{value}</{name}>" for name, value in (a.split("=", 1) for a in args.arg))
    padding = f"<!-- {'x' * args.pad} -->" if args.pad else ""
    return (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
        's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">' + padding + "<s:Body>"
        f'<u:{action} xmlns:u="{service}">{arguments}</u:{action}></s:Body></s:Envelope>'
    )


def _soap_exchange(args: argparse.Namespace, action: str) -> tuple:
    """One POST to args.control_url: (HTTP status, UPnP errorCode or "-"); status "none" when
    nothing came back (the text of the error in the code's place)."""
    import re
    from urllib.parse import urlsplit

    url = urlsplit(args.control_url)
    body = _soap_body(args, action).encode()
    length = args.content_length if args.content_length is not None else len(body)
    head = (
        f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: text/xml; charset=\"utf-8\"\r\n"
        f'SOAPAction: "{args.service}#{action}"\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n'
    ).encode()
    answer = b""
    try:
        with socket.create_connection((url.hostname, url.port or 80), timeout=args.timeout) as sock:
            sock.sendall(head + body)
            while chunk := sock.recv(65536):
                answer += chunk
    except OSError as error:
        if not answer:
            return "none", str(error)
    if not answer:
        return "none", "connection closed without an answer"
    status = answer.split(b"\r\n", 1)[0].split()
    code = re.search(rb"<errorCode>\s*(\d+)\s*</errorCode>", answer)
    return (status[1].decode() if len(status) > 1 else "?"), (code.group(1).decode() if code else "-")


def soap(args: argparse.Namespace) -> int:
    status, code = _soap_exchange(args, args.action)
    if status == "none":
        print(f"no answer ({code})")
        return 1
    print(f"{status} {code}")
    return 0


def http(args: argparse.Namespace) -> int:
    from urllib.parse import urlsplit

    url = urlsplit(args.url)
    host = args.host or url.netloc
    body = args.body.encode()
    lines = [f"{args.method} {url.path or '/'} HTTP/1.1", f"Host: {host}", *args.header, "Connection: close"]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    answer = b""
    try:
        with socket.create_connection((url.hostname, url.port or 80), timeout=args.timeout) as sock:
            sock.sendall(request)
            deadline = time.monotonic() + args.timeout
            while b"\r\n" not in answer and time.monotonic() < deadline:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
    except OSError as error:
        print(f"no answer ({error})")
        return 1
    if not answer:
        print("no answer (connection closed without one)")
        return 1
    print(answer.split(b"\r\n", 1)[0].decode(errors="replace"))
    return 0


def ssdp_search(args: argparse.Namespace) -> int:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    if args.interface_address:
        # Without a route to 224.0.0.0/4 (the WAN host has none) the interface must be named.
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(args.interface_address))
        sock.bind((args.interface_address, 0))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
    request = (
        "M-SEARCH * HTTP/1.1\r\n"
        "HOST: 239.255.255.250:1900\r\n"
        'MAN: "ssdp:discover"\r\n'
        "MX: 1\r\n"
        f"ST: {args.search_target}\r\n\r\n"
    ).encode()
    for _ in range(args.repeat):
        sock.sendto(request, (args.host, 1900))
    answers = 0
    deadline = time.monotonic() + args.timeout
    while (remaining := deadline - time.monotonic()) > 0:
        sock.settimeout(remaining)
        try:
            data, sender = sock.recvfrom(4096)
        except socket.timeout:
            break
        answers += 1
        text = data.decode(errors="replace").split("\r\n")
        location = next((line.split(":", 1)[1].strip() for line in text if line.lower().startswith("location:")), "-")
        print(f"{sender[0]}:{sender[1]} {text[0]} location={location}")
    if not answers:
        print(f"no answer within {args.timeout}s")
    return 0 if answers else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="root description URL (skips SSDP discovery)")
    parser.add_argument("--discover-ms", type=int, default=1000, help="how long SSDP discovery waits")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("discover").set_defaults(run=discover)

    def mapping_command(name, run, internal=False):
        command = commands.add_parser(name)
        command.add_argument("external_port", type=int)
        command.add_argument("protocol", type=str.upper, choices=("TCP", "UDP"))
        if internal:
            command.add_argument("internal_port", type=int)
            command.add_argument("--client", default="")
            command.add_argument("--lease", type=int, default=0)
            command.add_argument("--desc", default="labupnp")
        command.add_argument("--remote", default="")
        command.set_defaults(run=run)

    mapping_command("add", add, internal=True)
    mapping_command("add-any", add_any, internal=True)
    mapping_command("get", get)
    mapping_command("delete", delete)
    commands.add_parser("list").set_defaults(run=list_mappings)

    measure = commands.add_parser("bench")
    measure.add_argument("--count", type=int, default=1000)
    measure.add_argument("--first-port", type=int, default=20000)
    measure.add_argument("--protocol", default="TCP")
    measure.add_argument("--lease", type=int, default=3600)
    measure.set_defaults(run=bench)

    many = commands.add_parser("flood")
    many.add_argument("control_url")
    many.add_argument("--count", type=int, default=10000)
    many.add_argument("--service", default="urn:schemas-upnp-org:service:WANIPConnection:1")
    many.add_argument("--timeout", type=float, default=5.0)
    many.set_defaults(body=None, pad=0, content_length=None)
    many.add_argument("--first-port", type=int, default=20000)
    many.set_defaults(run=flood)

    raw = commands.add_parser("soap")
    raw.add_argument("control_url")
    raw.add_argument("action")
    raw.add_argument("--service", default="urn:schemas-upnp-org:service:WANIPConnection:1")
    raw.add_argument("--arg", action="append", default=[], help="NAME=VALUE, in order")
    raw.add_argument("--body", help="the whole POST body instead of an envelope built from --arg")
    raw.add_argument("--pad", type=int, default=0, help="bytes of XML comment inside the envelope")
    raw.add_argument("--content-length", type=int, help="declare this Content-Length instead")
    raw.add_argument("--timeout", type=float, default=5.0)
    raw.set_defaults(run=soap)

    request = commands.add_parser("http")
    request.add_argument("url")
    request.add_argument("--method", default="GET")
    request.add_argument("--host", help="Host header instead of the URL's")
    request.add_argument("--header", action="append", default=[])
    request.add_argument("--body", default="")
    request.add_argument("--timeout", type=float, default=3.0)
    request.set_defaults(run=http)

    search = commands.add_parser("ssdp-search")
    search.add_argument("host")
    search.add_argument("--interface-address")
    search.add_argument("--search-target", default="urn:schemas-upnp-org:device:InternetGatewayDevice:1")
    search.add_argument("--repeat", type=int, default=2)
    search.add_argument("--timeout", type=float, default=3.0)
    search.set_defaults(run=ssdp_search)
    return parser


def main() -> int:
    args = _parser().parse_args()
    try:
        return args.run(args)
    except Exception as error:  # noqa: BLE001 (miniupnpc raises bare Exception with the UPnP error text)
        print(f"error: {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
