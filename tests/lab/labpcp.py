#!/usr/bin/python3
"""A PCP client (RFC 6887) for the gatewayd lab, its messages built and dissected with scapy layers
defined here (scapy 2.5 has none for PCP). Run on a LAN host with Debian's python3 (for scapy).

  map --server IP --protocol udp|tcp --internal PORT [--suggest PORT] [--lifetime S] [--nonce HEX24]
      [--client IP]     one MAP request from this host (--client: the PCP client address field,
                        default the source address the socket gets), sent from an ephemeral port to
                        SERVER:5351, the answer awaited --timeout seconds (retransmitted once)

Prints the response field by field as key=value lines (version, r, opcode, result, result_name,
lifetime, epoch, nonce, protocol, internal_port, external_port, external_address, length) and
checks what every PCP response must be: from SERVER:5351 to our port, a multiple of 4 octets,
at most 1100, R bit set, reserved fields zero. Exit 0 with an answer, 1 when a check fails, 2 when
nothing came back.
"""

import argparse
import os
import socket
import struct
import sys

from scapy.fields import (BitEnumField, BitField, ByteEnumField, ByteField, IntField, IP6Field, ShortField,
                          StrFixedLenField, X3BytesField, XStrFixedLenField)
from scapy.packet import Packet, bind_layers

PCP_PORT = 5351
OPCODES = {0: "ANNOUNCE", 1: "MAP", 2: "PEER"}
RESULTS = {0: "SUCCESS", 1: "UNSUPP_VERSION", 2: "NOT_AUTHORIZED", 3: "MALFORMED_REQUEST", 4: "UNSUPP_OPCODE",
           5: "UNSUPP_OPTION", 6: "MALFORMED_OPTION", 7: "NETWORK_FAILURE", 8: "NO_RESOURCES",
           9: "UNSUPP_PROTOCOL", 10: "USER_EX_QUOTA", 11: "CANNOT_PROVIDE_EXTERNAL", 12: "ADDRESS_MISMATCH",
           13: "EXCESSIVE_REMOTE_PEERS"}
PROTOCOLS = {"tcp": 6, "udp": 17}


class PCPRequest(Packet):
    """RFC 6887 §7.1, figure 2."""
    name = "PCP request"
    fields_desc = [ByteField("version", 2), BitField("r", 0, 1), BitEnumField("opcode", 1, 7, OPCODES),
                   ShortField("reserved", 0), IntField("lifetime", 0), IP6Field("client", "::")]


class PCPResponse(Packet):
    """RFC 6887 §7.2, figure 3."""
    name = "PCP response"
    fields_desc = [ByteField("version", 2), BitField("r", 1, 1), BitEnumField("opcode", 1, 7, OPCODES),
                   ByteField("reserved", 0), ByteEnumField("result", 0, RESULTS), IntField("lifetime", 0),
                   IntField("epoch", 0), StrFixedLenField("reserved2", b"\0" * 12, 12)]


class PCPMap(Packet):
    """RFC 6887 §11.1, figures 9 and 10: the same layout in request and response."""
    name = "PCP MAP"
    fields_desc = [XStrFixedLenField("nonce", b"\0" * 12, 12), ByteField("protocol", 17),
                   X3BytesField("reserved", 0), ShortField("internal_port", 0), ShortField("external_port", 0),
                   IP6Field("external_address", "::")]


bind_layers(PCPRequest, PCPMap, opcode=1)
bind_layers(PCPResponse, PCPMap, opcode=1)


def mapped(address: str) -> str:
    return "::ffff:" + address


def exchange(args: argparse.Namespace, request: bytes) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(args.timeout / 2)
        s.connect((args.server, PCP_PORT))  # only the server's answers are let in
        for _ in range(2):
            s.send(request)
            try:
                answer, source = s.recvfrom(2048)
            except socket.timeout:
                continue
            if source != (args.server, PCP_PORT):
                raise SystemExit(f"answer from {source}, not {args.server}:{PCP_PORT}")
            return answer
    print(f"error: no answer from {args.server}:{PCP_PORT} within {args.timeout} s", file=sys.stderr)
    sys.exit(2)


def source_address(server: str) -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((server, PCP_PORT))
        return s.getsockname()[0]


def cmd_map(args: argparse.Namespace) -> int:
    nonce = bytes.fromhex(args.nonce) if args.nonce else os.urandom(12)
    if len(nonce) != 12:
        raise SystemExit("--nonce needs 24 hex digits")
    client = args.client or source_address(args.server)
    request = PCPRequest(opcode=1, lifetime=args.lifetime, client=mapped(client)) / PCPMap(
        nonce=nonce, protocol=PROTOCOLS[args.protocol], internal_port=args.internal,
        external_port=args.suggest, external_address="::")
    raw_request = bytes(request)
    if args.third_party:  # RFC 6887 §13.1: code 1, reserved, length 16, the internal host's address
        raw_request += struct.pack("!BBH", 1, 0, 16) + socket.inet_pton(socket.AF_INET6, args.third_party)
    raw = exchange(args, raw_request)
    response = PCPResponse(raw)
    fields = {
        "version": response.version, "r": response.r, "opcode": response.opcode, "result": response.result,
        "result_name": RESULTS.get(response.result, "?"), "lifetime": response.lifetime, "epoch": response.epoch,
        "length": len(raw),
    }
    problems = []
    if len(raw) % 4 or len(raw) > 1100 or len(raw) < 24:
        problems.append(f"length {len(raw)}")
    if response.reserved != 0 or response.reserved2 != b"\0" * 12:
        problems.append("reserved fields not zero")
    if PCPMap in response:
        body = response[PCPMap]
        fields.update(nonce=body.nonce.hex(), protocol=body.protocol, internal_port=body.internal_port,
                      external_port=body.external_port, external_address=body.external_address)
        if body.reserved != 0:
            problems.append("MAP reserved field not zero")
    for key, value in fields.items():
        print(f"{key}={value}")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("map")
    m.add_argument("--server", required=True)
    m.add_argument("--protocol", choices=sorted(PROTOCOLS), default="udp")
    m.add_argument("--internal", type=int, required=True)
    m.add_argument("--suggest", type=int, default=0)
    m.add_argument("--lifetime", type=int, default=3600)
    m.add_argument("--nonce")
    m.add_argument("--client")
    m.add_argument("--third-party", help="THIRD_PARTY: the internal host's address (an IPv6 one asks for a pinhole)")
    m.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args()
    return cmd_map(args)


if __name__ == "__main__":
    sys.exit(main())
