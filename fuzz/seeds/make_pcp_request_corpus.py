#!/usr/bin/python3
# Writes fuzz/corpus/pcp_request: PCP requests (RFC 6887) from the fuzzer's client
# 192.168.50.20: MAP (create, another nonce, delete, delete-all), MAP with each
# option, PEER, ANNOUNCE, and a few that must be refused (version 1, an unknown
# mandatory option, a short MAP, a NAT-PMP request). Plain struct, no scapy needed.
import os
import struct
import sys

CLIENT = bytes(10) + b"\xff\xff" + bytes([192, 168, 50, 20])
WAN = bytes(10) + b"\xff\xff" + bytes([203, 0, 113, 1])
PEER_ADDR = bytes(10) + b"\xff\xff" + bytes([198, 51, 100, 7])
NONCE = bytes(range(1, 13))


def header(opcode, lifetime, version=2):
    return struct.pack("!BBHI", version, opcode, 0, lifetime) + CLIENT


def map_data(protocol=6, internal=5000, external=0, address=bytes(16), nonce=NONCE):
    return nonce + struct.pack("!B3xHH", protocol, internal, external) + address


def option(code, data=b""):
    padded = data + bytes(-len(data) % 4)
    return struct.pack("!BBH", code, 0, len(data)) + padded


SEEDS = {
    "map_tcp": header(1, 3600) + map_data(),
    "map_udp_suggested": header(1, 7200) + map_data(17, 27015, 27015, WAN),
    "map_other_nonce": header(1, 3600) + map_data(nonce=bytes(range(100, 112))),
    "map_delete": header(1, 0) + map_data(),
    "map_delete_all": header(1, 0) + map_data(0, 0),
    "map_prefer_failure": header(1, 3600) + map_data(6, 5001, 8080) + option(2),
    "map_third_party": header(1, 3600) + map_data(6, 5002) + option(1, bytes(10) + b"\xff\xff" + bytes([192, 168, 50, 30])),
    "map_filter": header(1, 3600) + map_data(17, 5003) + option(3, struct.pack("!xBH", 128, 0) + PEER_ADDR),
    "map_filter_clear": header(1, 3600) + map_data(17, 5003) + option(3, struct.pack("!xBH", 0, 0) + bytes(16)),
    "map_optional_option": header(1, 3600) + map_data(6, 5004) + option(200, b"\x01\x02\x03"),
    "peer_udp": header(2, 600) + map_data(17, 40000) + struct.pack("!H2x", 3478) + PEER_ADDR,
    "announce": header(0, 0),
    "version_1": header(1, 3600, version=1) + map_data(),
    "unknown_mandatory_option": header(1, 3600) + map_data() + option(4),
    "short_map": header(1, 3600) + map_data()[:32],
    "natpmp_map": struct.pack("!BBHHHI", 0, 1, 0, 5000, 5000, 3600),
}

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "corpus", "pcp_request")
os.makedirs(out, exist_ok=True)
for name, body in SEEDS.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(body)
