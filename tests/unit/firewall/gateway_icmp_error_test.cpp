// The gateway's own ICMP errors (issue 18.2): the kernel builds fragmentation needed,
// time exceeded, host unreachable and parameter problem about a datagram as it routes
// it, and an inbound datagram is routed after the engine translated it. What the
// kernel quotes is then the LAN host's endpoint; what leaves by the WAN must quote the
// datagram as its sender sent it (RFC 5508 REQ-10; inbound path-MTU discovery), and no
// LAN address may leave by the WAN at all.
#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "engine_setup.hpp"
#include "tcp_connection.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;

constexpr Ipv4Address lan_gateway = Ipv4Address::from_octets(192, 168, 1, 1);
constexpr Ipv4Address game_host = Ipv4Address::from_octets(192, 168, 1, 40);
// What ip_forward quotes: as much of the datagram as fits in 576 bytes (RFC 1812 4.3.2.3).
constexpr std::size_t kernel_quote = 576 - 20 - 8;

Packet with_dont_fragment(Packet p) {
    put16(p, 6, std::uint16_t(get16(p, 6) | 0x4000));
    refresh_ip_checksum(p);
    return p;
}

Packet with_ttl(Packet p, std::uint8_t ttl) {
    p[8] = ttl;
    refresh_ip_checksum(p);
    return p;
}

EngineSetup config() {
    EngineSetup setup = engine_setup();
    setup.lan_addresses = {lan_gateway};
    PortForward game;
    game.name = "game";
    game.protocol = Protocol::udp;
    game.external_ports = {27015, 27015};
    game.internal = at(game_host, 37015);
    setup.firewall.forwards = {game};
    return setup;
}

// A flow the LAN or a forward opened, and a datagram of it arriving from the WAN (as
// its sender sent it: to the WAN address and the external port).
struct InboundFlow {
    std::function<Packet(PacketEngine&)> open_and_arrive;
};

Packet udp_reply_to_mapping(PacketEngine& engine, std::size_t payload) {
    Packet opens = udp(at(host_a, 5000), at(server, 5000), payload_of_size(20));
    REQUIRE(outbound(engine, opens).verdict == Verdict::forward);
    return udp(at(server, 5000), mapped_endpoint(engine, Protocol::udp, at(host_a, 5000)), payload_of_size(payload));
}

struct Row {
    std::string description;
    std::function<Packet(PacketEngine&)> arriving;  // opens the flow, returns what the sender sends
    std::uint8_t type, code;
    std::uint16_t next_hop_mtu;
};

}  // namespace

TEST_CASE("the gateway's own ICMP error about an inbound datagram it translated quotes it as the WAN sender sent it") {
    auto handshake = TcpConnection::outbound(at(host_a, 5001), at(server, 443), at(wan_address, 0));
    std::vector<Row> table{
        {"fragmentation needed, LAN MTU 1400, about a 1478-byte DF UDP datagram to a mapping",
         [](PacketEngine& e) { return with_dont_fragment(udp_reply_to_mapping(e, 1450)); },
         icmp_type::destination_unreachable, icmp_code::fragmentation_needed, 1400},
        {"fragmentation needed, LAN MTU 1280 (a tunnel), about a 1400-byte DF UDP datagram",
         [](PacketEngine& e) { return with_dont_fragment(udp_reply_to_mapping(e, 1372)); },
         icmp_type::destination_unreachable, icmp_code::fragmentation_needed, 1280},
        {"time exceeded about a TTL-1 UDP datagram (RFC 5508 REQ-10)",
         [](PacketEngine& e) { return with_ttl(udp_reply_to_mapping(e, 100), 1); }, icmp_type::time_exceeded,
         icmp_code::ttl_exceeded_in_transit, 0},
        {"host unreachable about a UDP datagram quoted whole (no neighbour answered)",
         [](PacketEngine& e) { return udp_reply_to_mapping(e, 33); }, icmp_type::destination_unreachable, 1, 0},
        {"fragmentation needed about a DF TCP segment of a connection the LAN opened",
         [&](PacketEngine& e) {
             REQUIRE(send_syn(e, handshake, at(host_a, 5001)).verdict == Verdict::forward);
             Packet syn_ack = handshake.from_server(tcp_flag::syn | tcp_flag::ack).sent;
             REQUIRE(inbound(e, syn_ack, t0 + 1ms).verdict == Verdict::forward);
             Packet ack = handshake.from_client(tcp_flag::ack).sent;
             REQUIRE(outbound(e, ack, t0 + 2ms).verdict == Verdict::forward);
             return with_dont_fragment(handshake.from_server(tcp_flag::ack, payload_of_size(1400)).sent);
         },
         icmp_type::destination_unreachable, icmp_code::fragmentation_needed, 1280},
        {"time exceeded about an echo reply to a LAN host's ping",
         [](PacketEngine& e) {
             Packet request = icmp_echo(host_a, server, icmp_type::echo_request, 5000, 1, payload_of_size(8));
             REQUIRE(outbound(e, request).verdict == Verdict::forward);
             Endpoint external = mapped_endpoint(e, Protocol::icmp, at(host_a, 5000));
             return with_ttl(icmp_echo(server, wan_address, icmp_type::echo_reply, external.port.value, 1,
                                       payload_of_size(8)),
                             1);
         },
         icmp_type::time_exceeded, icmp_code::ttl_exceeded_in_transit, 0},
        {"parameter problem about a UDP datagram to a static forward",
         [](PacketEngine&) { return udp(at(server, 6000), at(wan_address, 27015), payload_of_size(40)); },
         icmp_type::parameter_problem, 0, 0},
    };
    for (const Row& row : table) {
        DYNAMIC_SECTION(row.description) {
            PacketEngine engine(config());
            const Packet sent = row.arriving(engine);
            Packet routed = sent;
            REQUIRE(inbound(engine, routed, t0 + 3ms).verdict == Verdict::forward);
            REQUIRE(engine.lan_class_of(destination_address(routed)) == LanAddressClass::host);

            // What the kernel builds after routing `routed`, from the WAN address to the sender.
            Packet error = icmp_error(row.type, row.code, wan_address, server, routed, kernel_quote, row.next_hop_mtu);
            auto result = engine.track_local_output(error, t0 + 4ms);
            CHECK(result.verdict == Verdict::forward);
            CHECK(destination_of(quoted_datagram(error)) == destination_of(sent));
            CHECK(source_of(quoted_datagram(error)) == source_of(sent));
            CHECK(icmp_next_hop_mtu(error) == row.next_hop_mtu);
            CHECK(checksum_errors(error) == "");
            CHECK(error == icmp_error(row.type, row.code, wan_address, server, sent, kernel_quote, row.next_hop_mtu));
            CHECK(engine.counters().gateway_icmp_errors_translated == 1);
        }
    }
}

TEST_CASE("the gateway's own ICMP error leaving by the WAN from a LAN-side address leaves from the WAN address") {
    PacketEngine engine(config());
    const Packet sent = with_dont_fragment(udp_reply_to_mapping(engine, 1450));
    Packet routed = sent;
    REQUIRE(inbound(engine, routed, t0 + 1ms).verdict == Verdict::forward);
    Packet error = icmp_error(icmp_type::destination_unreachable, icmp_code::fragmentation_needed, lan_gateway, server,
                              routed, kernel_quote, 1400);
    CHECK(engine.track_local_output(error, t0 + 2ms).verdict == Verdict::forward);
    CHECK(error == icmp_error(icmp_type::destination_unreachable, icmp_code::fragmentation_needed, wan_address, server,
                              sent, kernel_quote, 1400));
}

TEST_CASE("the gateway's own ICMP error that would carry a LAN address of no known flow to the WAN is dropped") {
    struct Quoted {
        std::string description;
        Packet datagram;
    };
    std::vector<Quoted> table{
        {"to a LAN host's port no flow holds", udp(at(server, 5000), at(host_a, 5001), payload_of_size(30))},
        {"to a LAN host from another remote than its flow's", udp(at(other_server, 5000), at(host_a, 5000))},
        {"from a LAN host, the error going to the WAN", udp(at(host_a, 5000), at(server, 53))},
        {"an echo request to a LAN host", icmp_echo(server, host_a, icmp_type::echo_request, 9, 1)},
        {"a datagram of a protocol the NAT does not carry, to a LAN host",
         with_protocol(udp(at(server, 1), at(host_a, 1)), ip_gre)},
    };
    for (const Quoted& row : table) {
        DYNAMIC_SECTION(row.description) {
            PacketEngine engine(config());
            Packet opens = udp(at(host_a, 5000), at(server, 5000));
            REQUIRE(outbound(engine, opens).verdict == Verdict::forward);
            Packet error = icmp_error(icmp_type::time_exceeded, icmp_code::ttl_exceeded_in_transit, wan_address, server,
                                      row.datagram, kernel_quote);
            auto result = engine.track_local_output(error, t0 + 1ms);
            CHECK(result.verdict == Verdict::drop);
            CHECK(result.reason == DropReason::gateway_icmp_error_without_flow);
            CHECK(engine.counters().drops[DropReason::gateway_icmp_error_without_flow] == 1);
        }
    }
}

TEST_CASE("the gateway's own ICMP error to a LAN host about the packet it sent leaves untouched") {
    // Outbound datagrams meet ip_forward's TTL and MTU checks before FORWARD, where the
    // engine translates: the kernel quotes them as the LAN host sent them (PPPoE: 1492).
    PacketEngine engine(config());
    Packet big = with_dont_fragment(udp(at(host_a, 5000), at(server, 5000), payload_of_size(1472)));
    for (auto [type, code, mtu] : {std::tuple{icmp_type::destination_unreachable, icmp_code::fragmentation_needed, 1492},
                                   std::tuple{icmp_type::time_exceeded, icmp_code::ttl_exceeded_in_transit, 0}}) {
        Packet error = icmp_error(type, code, lan_gateway, host_a, big, kernel_quote, std::uint16_t(mtu));
        const Packet built = error;
        CHECK(engine.track_local_output(error, t0).verdict == Verdict::deliver_locally);
        CHECK(error == built);
    }
}

TEST_CASE("the gateway's own ICMP error about a datagram for the gateway itself leaves untouched") {
    PacketEngine engine(config());
    Packet probe = udp(at(server, 5000), at(wan_address, 33000), payload_of_size(10));
    Packet error = icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, wan_address, server,
                              probe, kernel_quote);
    const Packet built = error;
    CHECK(engine.track_local_output(error, t0).verdict == Verdict::deliver_locally);
    CHECK(error == built);
    CHECK(engine.counters().drops.total() == 0);
}

}  // namespace gw::test

namespace gw::test {

TEST_CASE("the gateway's own ICMP error to its WAN address about a LAN host's translated datagram goes to that host, quoting what it sent") {
    struct Back {
        std::string description;
        std::function<Packet(PacketEngine&, Packet&)> sent_and_routed;  // returns what the host sent; routed as translated
        std::uint8_t type, code;
    };
    std::vector<Back> table{
        {"host unreachable about an outbound UDP datagram no WAN neighbour took",
         [](PacketEngine& e, Packet& routed) {
             Packet sent = udp(at(host_a, 5000), at(server, 53), payload_of_size(30));
             routed = sent;
             REQUIRE(outbound(e, routed).verdict == Verdict::forward);
             return sent;
         },
         icmp_type::destination_unreachable, 1},
        {"time exceeded about a hairpinned UDP datagram with TTL 1",
         [](PacketEngine& e, Packet& routed) {
             Packet sent = with_ttl(udp(at(host_a, 5000), at(wan_address, 27015), payload_of_size(30)), 1);
             routed = sent;
             REQUIRE(e.translate_hairpin(routed, L4Checksum::complete, t0).verdict == Verdict::forward);
             REQUIRE(destination_of(routed) == at(game_host, 37015));
             return sent;
         },
         icmp_type::time_exceeded, icmp_code::ttl_exceeded_in_transit},
    };
    for (const Back& row : table) {
        DYNAMIC_SECTION(row.description) {
            PacketEngine engine(config());
            Packet routed;
            const Packet sent = row.sent_and_routed(engine, routed);
            REQUIRE(source_address(routed) == wan_address);
            Packet error = icmp_error(row.type, row.code, wan_address, wan_address, routed, kernel_quote);
            CHECK(engine.track_local_output(error, t0 + 1ms).verdict == Verdict::forward);
            CHECK(checksum_errors(error) == "");
            CHECK(error == icmp_error(row.type, row.code, wan_address, host_a, sent, kernel_quote));
        }
    }
}

TEST_CASE("the gateway's own ICMP error to its WAN address about its own datagram stays untouched") {
    PacketEngine engine(config());
    Packet query = udp(at(wan_address, 33000), at(server, 53), payload_of_size(30));
    REQUIRE(engine.track_local_output(query, t0).verdict == Verdict::deliver_locally);
    Packet error = icmp_error(icmp_type::destination_unreachable, 1, wan_address, wan_address, query, kernel_quote);
    const Packet built = error;
    CHECK(engine.track_local_output(error, t0 + 1ms).verdict == Verdict::deliver_locally);
    CHECK(error == built);
}

}  // namespace gw::test
