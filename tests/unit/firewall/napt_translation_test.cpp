// NAPT as the hosts on either side see it, through the packet engine: what leaves the
// WAN for a LAN packet, what reaches the LAN for a reply, and what never crosses.
// Expected packets are built whole by the builder, so a byte-for-byte match also
// proves every checksum by full recomputation.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine_setup.hpp"
#include "tcp_connection.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;


EngineSetup config_with(PortRange range) { return engine_setup(range); }

const EngineSetup default_config = config_with({1024, 65535});

struct Translation {
    std::string description;
    Packet sent;      // by the LAN host
    Packet leaves;    // on the WAN
    Packet reply;     // from the Internet
    Packet arrives;   // at the LAN host
};

}  // namespace

TEST_CASE("an outbound packet leaves with the WAN address and its port kept, and its reply comes back") {
    Bytes data = payload_of_size(29);
    auto handshake = TcpConnection::outbound(at(host_a, 40123), at(server, 443), at(wan_address, 40123));
    Crossing syn = handshake.from_client(tcp_flag::syn);
    Crossing syn_ack = handshake.from_server(tcp_flag::syn | tcp_flag::ack);
    // A connection already open when the daemon started: picked up mid-stream.
    auto open = TcpConnection::outbound(at(host_a, 40123), at(server, 443), at(wan_address, 40123));
    Crossing request = open.from_client(tcp_flag::ack, data);
    Crossing response = open.from_server(tcp_flag::ack, data);
    std::vector<Translation> table{
        {"TCP SYN", syn.sent, syn.translated, syn_ack.sent, syn_ack.translated},
        {"TCP data", request.sent, request.translated, response.sent, response.translated},
        {"UDP", udp(at(host_a, 5353), at(server, 53), data), udp(at(wan_address, 5353), at(server, 53), data),
         udp(at(server, 53), at(wan_address, 5353), data), udp(at(server, 53), at(host_a, 5353), data)},
        {"ICMP echo", icmp_echo(host_a, server, icmp_type::echo_request, 0x4242, 7, data),
         icmp_echo(wan_address, server, icmp_type::echo_request, 0x4242, 7, data),
         icmp_echo(server, wan_address, icmp_type::echo_reply, 0x4242, 7, data),
         icmp_echo(server, host_a, icmp_type::echo_reply, 0x4242, 7, data)},
    };
    for (const Translation& row : table) {
        DYNAMIC_SECTION(row.description) {
            PacketEngine nat(default_config);
            Packet packet = row.sent;
            auto out = nat.translate_outbound(packet, L4Checksum::complete, t0);
            CHECK(out.verdict == Verdict::forward);
            CHECK(packet == row.leaves);
            CHECK(checksum_errors(packet) == "");

            packet = row.reply;
            auto in = nat.translate_inbound(packet, L4Checksum::complete, t0 + 10ms);
            CHECK(in.verdict == Verdict::forward);
            CHECK(packet == row.arrives);
            CHECK(checksum_errors(packet) == "");
            CHECK(nat.counters().outbound_packets == 1);
            CHECK(nat.counters().inbound_packets == 1);
            CHECK(nat.counters().mappings_created == 1);
            CHECK(nat.counters().flows_created == 1);
        }
    }
}

TEST_CASE("RFC 4787 REQ-1: one internal endpoint keeps one external port whatever the destination") {
    PacketEngine nat(config_with({40000, 40099}));
    Packet first = udp(at(host_a, 5000), at(server, 3478));
    Packet second = udp(at(host_a, 5000), at(other_server, 3479));
    REQUIRE(nat.translate_outbound(first, L4Checksum::complete, t0).verdict == Verdict::forward);
    REQUIRE(nat.translate_outbound(second, L4Checksum::complete, t0 + 1ms).verdict == Verdict::forward);
    CHECK(source_of(first) == source_of(second));
    CHECK(nat.mappings().size() == 1);
    CHECK(nat.flows().size() == 2);
}

TEST_CASE("RFC 5382 REQ-1: one internal TCP endpoint keeps one external port whatever the destination") {
    PacketEngine nat(config_with({40000, 40099}));
    Packet first = tcp(at(host_a, 5000), at(server, 443), tcp_flag::syn);
    Packet second = tcp(at(host_a, 5000), at(other_server, 80), tcp_flag::syn);
    REQUIRE(nat.translate_outbound(first, L4Checksum::complete, t0).verdict == Verdict::forward);
    REQUIRE(nat.translate_outbound(second, L4Checksum::complete, t0 + 1ms).verdict == Verdict::forward);
    CHECK(source_of(first) == source_of(second));
}

TEST_CASE("RFC 5508 REQ-2a: an echo identifier keeps one mapping whatever the destination") {
    PacketEngine nat(config_with({40000, 40099}));
    Packet first = icmp_echo(host_a, server, icmp_type::echo_request, 7, 1);
    Packet second = icmp_echo(host_a, other_server, icmp_type::echo_request, 7, 2);
    REQUIRE(nat.translate_outbound(first, L4Checksum::complete, t0).verdict == Verdict::forward);
    REQUIRE(nat.translate_outbound(second, L4Checksum::complete, t0 + 1ms).verdict == Verdict::forward);
    CHECK(source_of(first) == source_of(second));
}

TEST_CASE("RFC 4787 REQ-3: two LAN hosts with the same source port get different external ports in the range") {
    const PortRange range{40000, 40099};
    PacketEngine nat(config_with(range));
    Packet from_a = udp(at(host_a, 40050), at(server, 53));
    Packet from_b = udp(at(host_b, 40050), at(server, 53));
    REQUIRE(nat.translate_outbound(from_a, L4Checksum::complete, t0).verdict == Verdict::forward);
    REQUIRE(nat.translate_outbound(from_b, L4Checksum::complete, t0).verdict == Verdict::forward);
    Port port_a = source_of(from_a).port, port_b = source_of(from_b).port;
    CHECK(port_a == Port{40050});  // the first keeps its port
    CHECK(port_b != port_a);
    CHECK(range.contains(port_b));

    SECTION("and each reply returns to the host that owns the port") {
        Packet to_a = udp(at(server, 53), at(wan_address, port_a.value));
        Packet to_b = udp(at(server, 53), at(wan_address, port_b.value));
        REQUIRE(nat.translate_inbound(to_a, L4Checksum::complete, t0 + 1ms).verdict == Verdict::forward);
        REQUIRE(nat.translate_inbound(to_b, L4Checksum::complete, t0 + 1ms).verdict == Verdict::forward);
        CHECK(to_a == udp(at(server, 53), at(host_a, 40050)));
        CHECK(to_b == udp(at(server, 53), at(host_b, 40050)));
    }
}

TEST_CASE("an internal port outside nat.port_range is given a port from the range") {
    const PortRange range{40000, 40099};
    for (std::uint16_t internal : {1, 53, 1023, 39999, 40100, 65535}) {
        DYNAMIC_SECTION("internal port " << internal) {
            PacketEngine nat(config_with(range));
            Packet packet = udp(at(host_a, internal), at(server, 53), payload_of_size(3));
            REQUIRE(nat.translate_outbound(packet, L4Checksum::complete, t0).verdict == Verdict::forward);
            CHECK(range.contains(source_of(packet).port));
            CHECK(packet == udp(at(wan_address, source_of(packet).port.value), at(server, 53), payload_of_size(3)));
        }
    }
}

TEST_CASE("two LAN hosts pinging with the same identifier get different identifiers, and each reply returns home") {
    PacketEngine nat(config_with({40000, 40099}));
    Packet from_a = icmp_echo(host_a, server, icmp_type::echo_request, 40001, 1);
    Packet from_b = icmp_echo(host_b, server, icmp_type::echo_request, 40001, 1);
    REQUIRE(nat.translate_outbound(from_a, L4Checksum::complete, t0).verdict == Verdict::forward);
    REQUIRE(nat.translate_outbound(from_b, L4Checksum::complete, t0).verdict == Verdict::forward);
    std::uint16_t id_a = source_of(from_a).port.value, id_b = source_of(from_b).port.value;
    CHECK(id_a == 40001);
    CHECK(id_b != id_a);
    CHECK(from_b == icmp_echo(wan_address, server, icmp_type::echo_request, id_b, 1));

    Packet reply_b = icmp_echo(server, wan_address, icmp_type::echo_reply, id_b, 1);
    Packet reply_a = icmp_echo(server, wan_address, icmp_type::echo_reply, id_a, 1);
    REQUIRE(nat.translate_inbound(reply_b, L4Checksum::complete, t0 + 1ms).verdict == Verdict::forward);
    REQUIRE(nat.translate_inbound(reply_a, L4Checksum::complete, t0 + 1ms).verdict == Verdict::forward);
    CHECK(reply_b == icmp_echo(server, host_b, icmp_type::echo_reply, 40001, 1));
    CHECK(reply_a == icmp_echo(server, host_a, icmp_type::echo_reply, 40001, 1));
}

TEST_CASE("a packet with IP options is translated with its options intact") {
    PacketEngine nat(default_config);
    Bytes options{0x01, 0x01, 0x01, 0x00};  // three NOPs and an end of list
    Packet packet = with_ip_options(udp(at(host_a, 5000), at(server, 53), payload_of_size(5)), options);
    REQUIRE(nat.translate_outbound(packet, L4Checksum::complete, t0).verdict == Verdict::forward);
    CHECK(packet == with_ip_options(udp(at(wan_address, 5000), at(server, 53), payload_of_size(5)), options));
}

TEST_CASE("bytes after the IP total length (link padding) are neither translated nor counted") {
    PacketEngine nat(default_config);
    Packet datagram = udp(at(host_a, 5000), at(server, 53), payload_of_size(2));
    Packet padded = datagram;
    padded.resize(46, 0xee);
    REQUIRE(nat.translate_outbound(padded, L4Checksum::complete, t0).verdict == Verdict::forward);
    CHECK(Packet(padded.begin(), padded.begin() + std::ptrdiff_t(datagram.size())) ==
          udp(at(wan_address, 5000), at(server, 53), payload_of_size(2)));
    CHECK(Packet(padded.begin() + std::ptrdiff_t(datagram.size()), padded.end()) == Packet(46 - datagram.size(), 0xee));
    CHECK(nat.counters().outbound_bytes == datagram.size());
}

TEST_CASE("a packet that must not cross is refused with its reason, and left untouched") {
    // Unsolicited packets for the gateway itself fall to the input policy, drop by default.
    struct Row {
        std::string description;
        bool inbound;
        Packet packet;
        Verdict verdict;
        DropReason reason;
    };
    std::vector<Row> table{
        {"a WAN packet addressed to a LAN host directly", true, udp(at(server, 53), at(host_a, 5000)), Verdict::drop,
         DropReason::not_addressed_to_gateway},
        {"a WAN packet addressed to another public address", true, udp(at(server, 53), at(other_server, 5000)),
         Verdict::drop, DropReason::not_addressed_to_gateway},
        {"a UDP datagram to a port no mapping holds", true, udp(at(server, 53), at(wan_address, 5000)),
         Verdict::drop, DropReason::denied_by_policy},
        {"a TCP SYN to a port no mapping holds", true, tcp(at(server, 1234), at(wan_address, 22), tcp_flag::syn),
         Verdict::drop, DropReason::denied_by_policy},
        {"an echo reply with an identifier no mapping holds", true,
         icmp_echo(server, wan_address, icmp_type::echo_reply, 999, 1), Verdict::drop, DropReason::denied_by_policy},
        {"an echo request to the gateway", true, icmp_echo(server, wan_address, icmp_type::echo_request, 5000, 1),
         Verdict::drop, DropReason::denied_by_policy},
        {"a GRE packet to the gateway", true, ipv4(server, wan_address, ip_gre, payload_of_size(24)),
         Verdict::drop, DropReason::denied_by_policy},
        {"a LAN packet already carrying the WAN address", false, udp(at(wan_address, 5000), at(server, 53)),
         Verdict::drop, DropReason::source_is_gateway},
        {"an echo reply from the LAN", false, icmp_echo(host_a, server, icmp_type::echo_reply, 5000, 1), Verdict::drop,
         DropReason::unsupported_icmp_type},
    };
    for (const Row& row : table) {
        DYNAMIC_SECTION(row.description) {
            PacketEngine nat(default_config);
            // A live mapping on another port, so that "no mapping" is not "no mappings at all".
            Packet other = udp(at(host_b, 7000), at(server, 53));
            REQUIRE(nat.translate_outbound(other, L4Checksum::complete, t0).verdict == Verdict::forward);

            Packet packet = row.packet;
            auto result = row.inbound ? nat.translate_inbound(packet, L4Checksum::complete, t0)
                                      : nat.translate_outbound(packet, L4Checksum::complete, t0);
            CHECK(result.verdict == row.verdict);
            CHECK(result.reason == row.reason);
            CHECK(packet == row.packet);
            CHECK(nat.counters().drops[row.reason] == 1);
            CHECK(nat.counters().local_packets == 0);
            CHECK(nat.counters().inbound_packets == 0);
        }
    }
}

TEST_CASE("ports_exhausted when every port of nat.port_range is taken") {
    PacketEngine nat(config_with({40000, 40001}));
    Packet first = udp(at(host_a, 1), at(server, 53));
    Packet second = udp(at(host_a, 2), at(server, 53));
    Packet third = udp(at(host_b, 3), at(server, 53));
    REQUIRE(nat.translate_outbound(first, L4Checksum::complete, t0).verdict == Verdict::forward);
    REQUIRE(nat.translate_outbound(second, L4Checksum::complete, t0).verdict == Verdict::forward);
    Packet untouched = third;
    auto result = nat.translate_outbound(third, L4Checksum::complete, t0 + 1s);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::ports_exhausted);
    CHECK(third == untouched);
    CHECK(nat.counters().drops[DropReason::ports_exhausted] == 1);

    SECTION("while other protocols still have the whole range") {
        Packet ping = icmp_echo(host_b, server, icmp_type::echo_request, 3, 1);
        CHECK(nat.translate_outbound(ping, L4Checksum::complete, t0 + 1s).verdict == Verdict::forward);
    }
}

// A full mapping table is a full flow table whose every flow holds its own mapping: it
// refuses no one the flow table would make room for (issue 7, fair eviction).
TEST_CASE("a full mapping table makes room for another host's flow by evicting one of the busiest host's") {
    EngineSetup config = default_config;
    config.nat.max_mappings = 2;
    PacketEngine nat(config);
    Packet first = udp(at(host_a, 5000), at(server, 53));
    Packet second = tcp(at(host_a, 5000), at(server, 80), tcp_flag::syn);
    REQUIRE(nat.translate_outbound(first, L4Checksum::complete, t0).verdict == Verdict::forward);
    REQUIRE(nat.translate_outbound(second, L4Checksum::complete, t0 + 1s).verdict == Verdict::forward);
    REQUIRE(nat.mappings().size() == 2);

    SECTION("another host gets its flow and host_a loses its oldest") {
        Packet third = icmp_echo(host_b, server, icmp_type::echo_request, 5000, 1);
        auto result = nat.translate_outbound(third, L4Checksum::complete, t0 + 2s);
        CHECK(result.verdict == Verdict::forward);
        CHECK(nat.counters().flows_evicted == 1);
        CHECK(nat.counters().drops[DropReason::mapping_table_full] == 0);
        CHECK(nat.mappings().size() == 2);
        CHECK(nat.mappings().ports_held_by(host_a) == 1);
        CHECK(flow_between(nat, at(host_a, 5000), at(server, 53)) == nullptr);
        Packet still = tcp(at(host_a, 5000), at(server, 80), tcp_flag::syn);
        CHECK(nat.translate_outbound(still, L4Checksum::complete, t0 + 3s).verdict == Verdict::forward);
    }
    SECTION("while host_a, which started every flow, only recycles its own half-open one at its flow limit") {
        // Its flow limit is capped at nat.max_mappings. The unanswered SYN makes room...
        Packet again = udp(at(host_a, 6000), at(other_server, 53));
        CHECK(nat.translate_outbound(again, L4Checksum::complete, t0 + 2s).verdict == Verdict::forward);
        CHECK(nat.counters().flows_evicted == 1);
        // ...but live UDP flows do not: the next one is refused.
        Packet more = udp(at(host_a, 7000), at(other_server, 53));
        auto refused = nat.translate_outbound(more, L4Checksum::complete, t0 + 3s);
        CHECK(refused.verdict == Verdict::drop);
        CHECK(refused.reason == DropReason::host_flow_limit);
        CHECK(nat.counters().flows_evicted == 1);
    }
}

}  // namespace gw::test
