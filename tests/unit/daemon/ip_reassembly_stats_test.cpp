#include <catch2/catch.hpp>

#include "daemon/ip_reassembly_stats.hpp"

namespace gw {
namespace {

// As a 6.x kernel prints it (net/ipv4/proc.c), trimmed after the Icmp lines.
constexpr std::string_view snmp =
    "Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards "
    "InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails "
    "FragCreates OutTransmits\n"
    "Ip: 1 64 3 0 0 1 0 0 0 0 0 0 4 23 5 6 1 0 3 3\n"
    "Icmp: InMsgs InErrors\n"
    "Icmp: 0 0\n";

TEST_CASE("the kernel's reassembly counters are read by name from /proc/net/snmp") {
    auto stats = parse_ip_reassembly_counters(snmp);
    REQUIRE(stats);
    CHECK(stats->fragments == 23);
    CHECK(stats->reassembled == 5);
    CHECK(stats->failed == 6);
    CHECK(stats->timed_out == 4);
}

TEST_CASE("an snmp text without the reassembly counters gives nothing rather than zeros") {
    CHECK_FALSE(parse_ip_reassembly_counters("Ip: Forwarding DefaultTTL\nIp: 1 64\n"));
    CHECK_FALSE(parse_ip_reassembly_counters("Ip: ReasmReqds ReasmOKs\nIp: 1\n"));
    CHECK_FALSE(parse_ip_reassembly_counters(""));
}

TEST_CASE("the memory incomplete datagrams hold is read from /proc/net/sockstat") {
    CHECK(parse_fragment_memory("sockets: used 13\nRAW: inuse 0\nFRAG: inuse 2 memory 3072\n") == 3072u);
    CHECK_FALSE(parse_fragment_memory("sockets: used 13\n"));
}

TEST_CASE("the reassembly figures appear in status under the names the docs give") {
    IpReassemblyStats s{23, 5, 6, 4, 3072, 4194304, 30};
    CHECK(ip_reassembly_json(s) ==
          R"({"fragments":23,"reassembled":5,"failed":6,"timed_out":4,"memory_bytes":3072,)"
          R"("memory_limit_bytes":4194304,"timeout_seconds":30})");
}

}  // namespace
}  // namespace gw
