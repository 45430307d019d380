// RFC 5508 section 7: an ICMP error about a translated flow reaches the other side as
// if there were no NAT (the firewall's RELATED traffic): the outer header like any
// packet of the flow, the quoted datagram exactly as the host sent (or received) it,
// every checksum right. An error about no flow never reaches anyone.
#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

#include "engine_setup.hpp"
#include "tcp_connection.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;

constexpr PortRange range{40000, 40099};
constexpr Port unmapped{40050};  // a port of the range the tests check no mapping holds

EngineSetup config() { return engine_setup(range); }

// Sends `packet` out through the NAT and returns it as it left.
Packet sent_through(PacketEngine& nat, Packet packet, Instant now = t0) {
    auto result = nat.translate_outbound(packet, L4Checksum::complete, now);
    REQUIRE(result.verdict == Verdict::forward);
    return packet;
}

struct ErrorAboutOutbound {
    std::string description;
    Packet sent;  // by the LAN host; its ports are outside the range, so the NAT rewrites them
    std::uint8_t type, code;
    std::size_t quote_length;
    std::uint16_t next_hop_mtu;
};

}  // namespace

TEST_CASE("an ICMP error from the WAN about a translated flow reaches the LAN host quoting what it sent") {
    Bytes data = payload_of_size(24);
    std::vector<ErrorAboutOutbound> table{
        {"port unreachable about a UDP datagram", udp(at(host_a, 5000), at(server, 53), data),
         icmp_type::destination_unreachable, icmp_code::port_unreachable, 999, 0},
        {"port unreachable about a UDP datagram sent without checksum",
         udp(at(host_a, 5000), at(server, 53), data, false), icmp_type::destination_unreachable,
         icmp_code::port_unreachable, 999, 0},
        {"port unreachable about a UDP datagram with an odd length",
         udp(at(host_a, 5000), at(server, 53), payload_of_size(13)), icmp_type::destination_unreachable,
         icmp_code::port_unreachable, 999, 0},
        {"fragmentation needed about a TCP segment, quoted whole",
         tcp(at(host_a, 5001), at(server, 443), tcp_flag::ack, data), icmp_type::destination_unreachable,
         icmp_code::fragmentation_needed, 999, 1400},
        {"fragmentation needed about a TCP segment, quoting 8 bytes of it (RFC 792)",
         tcp(at(host_a, 5001), at(server, 443), tcp_flag::ack, data), icmp_type::destination_unreachable,
         icmp_code::fragmentation_needed, 28, 1280},
        {"fragmentation needed about a TCP segment, quoting up to its checksum",
         tcp(at(host_a, 5001), at(server, 443), tcp_flag::ack, data), icmp_type::destination_unreachable,
         icmp_code::fragmentation_needed, 38, 1492},
        {"time exceeded about an echo request", icmp_echo(host_a, server, icmp_type::echo_request, 77, 3, data),
         icmp_type::time_exceeded, icmp_code::ttl_exceeded_in_transit, 999, 0},
        {"time exceeded about a UDP datagram, quoting 8 bytes of it", udp(at(host_a, 33434), at(server, 33435), data),
         icmp_type::time_exceeded, icmp_code::ttl_exceeded_in_transit, 28, 0},
        {"parameter problem about a TCP SYN", tcp(at(host_a, 5002), at(server, 25), tcp_flag::syn),
         icmp_type::parameter_problem, 0, 999, 0},
    };
    for (const ErrorAboutOutbound& row : table) {
        DYNAMIC_SECTION(row.description) {
            PacketEngine nat(config());
            Packet left = sent_through(nat, row.sent);
            Endpoint external = source_of(left);
            REQUIRE(external.address == wan_address);
            REQUIRE(external != source_of(row.sent));

            // A port unreachable comes from the destination host itself (issue 14), the
            // others from a router on the path.
            bool end_host = row.type == icmp_type::destination_unreachable && row.code == icmp_code::port_unreachable;
            Ipv4Address from = end_host ? server : router;
            Packet error = icmp_error(row.type, row.code, from, wan_address, left, row.quote_length, row.next_hop_mtu);
            auto result = nat.translate_inbound(error, L4Checksum::complete, t0 + 5ms);
            CHECK(result.verdict == Verdict::forward);
            CHECK(destination_address(error) == host_a);
            CHECK(source_of(quoted_datagram(error)) == source_of(row.sent));
            CHECK(icmp_next_hop_mtu(error) == row.next_hop_mtu);
            CHECK(checksum_errors(error) == "");
            CHECK(error ==
                  icmp_error(row.type, row.code, from, host_a, row.sent, row.quote_length, row.next_hop_mtu));
        }
    }
}

TEST_CASE("an ICMP error from a LAN host about a packet it received leaves quoting the WAN endpoint") {
    struct Row {
        std::string description;
        Protocol protocol;
        Packet opens;                           // the LAN host's packet from host_a:5000 that creates the mapping
        std::function<Packet(Endpoint)> reply;  // from the Internet to the mapping's WAN endpoint
        std::uint8_t type, code;
    };
    auto handshake = TcpConnection::outbound(at(host_a, 5000), at(server, 443), at(wan_address, 0));
    std::vector<Row> table{
        {"port unreachable about a UDP datagram", Protocol::udp, udp(at(host_a, 5000), at(server, 53)),
         [](Endpoint external) { return udp(at(server, 53), external, payload_of_size(17)); },
         icmp_type::destination_unreachable, icmp_code::port_unreachable},
        {"parameter problem about a TCP segment", Protocol::tcp, handshake.from_client(tcp_flag::syn).sent,
         [&](Endpoint external) {
             handshake.external_is(external);
             return handshake.from_server(tcp_flag::syn | tcp_flag::ack, payload_of_size(4)).sent;
         },
         icmp_type::parameter_problem, 0},
        {"time exceeded about an echo reply", Protocol::icmp, icmp_echo(host_a, server, icmp_type::echo_request, 5000, 1),
         [](Endpoint external) {
             return icmp_echo(server, wan_address, icmp_type::echo_reply, external.port.value, 1, payload_of_size(8));
         },
         icmp_type::time_exceeded, 0},
    };
    for (const Row& row : table) {
        DYNAMIC_SECTION(row.description) {
            PacketEngine nat(config());
            Endpoint external = source_of(sent_through(nat, row.opens));
            REQUIRE(external == mapped_endpoint(nat, row.protocol, at(host_a, 5000)));
            const Packet reply = row.reply(external);
            Packet received = reply;
            REQUIRE(nat.translate_inbound(received, L4Checksum::complete, t0 + 1ms).verdict == Verdict::forward);
            REQUIRE(destination_address(received) == host_a);

            Packet error = icmp_error(row.type, row.code, host_a, server, received, received.size());
            auto result = nat.translate_outbound(error, L4Checksum::complete, t0 + 2ms);
            CHECK(result.verdict == Verdict::forward);
            CHECK(source_address(error) == wan_address);
            CHECK(destination_of(quoted_datagram(error)) == destination_of(reply));
            CHECK(checksum_errors(error) == "");
            CHECK(error == icmp_error(row.type, row.code, wan_address, server, reply, reply.size()));
        }
    }
}

TEST_CASE("an ICMP error that is not about a known flow is dropped, never reaching the LAN or the gateway") {
    struct Row {
        std::string description;
        std::function<Packet(Endpoint)> quoted;  // what the error claims left the WAN, given the mapped endpoint
        Verdict verdict;
        DropReason reason;
    };
    std::vector<Row> table{
        {"quoting a port no flow holds", [](Endpoint) { return udp(at(wan_address, unmapped.value), at(server, 53)); },
         Verdict::drop, DropReason::no_mapping_for_icmp_error},
        {"quoting the mapped port, but another remote than its flow's",
         [](Endpoint mapped) { return udp(mapped, at(other_server, 53)); }, Verdict::drop,
         DropReason::no_mapping_for_icmp_error},
        {"quoting an echo identifier no flow holds",
         [](Endpoint) { return icmp_echo(wan_address, server, icmp_type::echo_request, unmapped.value, 1); },
         Verdict::drop, DropReason::no_mapping_for_icmp_error},
        {"quoting a datagram that never carried our address",
         [](Endpoint mapped) { return udp(at(other_server, mapped.port.value), at(server, 53)); }, Verdict::drop,
         DropReason::no_mapping_for_icmp_error},
        {"quoting an ICMP error",
         [](Endpoint mapped) {
             return icmp_error(icmp_type::destination_unreachable, 3, wan_address, server, udp(at(server, 1), mapped),
                               28);
         },
         Verdict::drop, DropReason::malformed_icmp_error},
        {"quoting fewer than 8 transport bytes",
         [](Endpoint mapped) { return first_bytes(udp(mapped, at(server, 53)), 24); }, Verdict::drop,
         DropReason::malformed_icmp_error},
        {"quoting a later fragment",
         [](Endpoint mapped) { return with_fragment_fields(udp(mapped, at(server, 53)), false, 4); }, Verdict::drop,
         DropReason::malformed_icmp_error},
        {"quoting something that is not IPv4",
         [](Endpoint mapped) { return with_ip_version(udp(mapped, at(server, 53)), 6); }, Verdict::drop,
         DropReason::malformed_icmp_error},
    };
    for (const Row& row : table) {
        DYNAMIC_SECTION(row.description) {
            PacketEngine nat(config());
            sent_through(nat, udp(at(host_a, 5000), at(server, 53)));  // holds one UDP port of the range
            Endpoint mapped = mapped_endpoint(nat, Protocol::udp, at(host_a, 5000));
            REQUIRE(mapped.port != unmapped);
            Packet quoted = row.quoted(mapped);
            Packet error = icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, router,
                                      wan_address, quoted, quoted.size());
            Packet untouched = error;
            auto result = nat.translate_inbound(error, L4Checksum::complete, t0 + 1ms);
            CHECK(result.verdict == row.verdict);
            CHECK(result.reason == row.reason);
            CHECK(error == untouched);
            CHECK(nat.counters().drops[row.reason] == 1);
            CHECK(nat.counters().local_packets == 0);
        }
    }
}

TEST_CASE("an ICMP error quoting an expired flow is not forwarded to the LAN") {
    PacketEngine nat(config());
    Packet left = sent_through(nat, udp(at(host_a, 5000), at(server, 53)));
    Packet error = icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, server, wan_address,
                              left, left.size());
    Packet untouched = error;
    auto result = nat.translate_inbound(error, L4Checksum::complete, t0 + 300s);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::no_mapping_for_icmp_error);
    CHECK(error == untouched);
}

TEST_CASE("RFC 5508 REQ-5: a LAN host's ICMP error quoting another host's flow is dropped") {
    PacketEngine nat(config());
    sent_through(nat, udp(at(host_a, 5000), at(server, 53)));
    Packet received = udp(at(server, 53), mapped_endpoint(nat, Protocol::udp, at(host_a, 5000)));
    REQUIRE(nat.translate_inbound(received, L4Checksum::complete, t0).verdict == Verdict::forward);

    // host_b claims host_a's datagram could not be delivered, to probe or tear down its flow.
    Packet error = icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, host_b, server,
                              received, received.size());
    Packet untouched = error;
    auto result = nat.translate_outbound(error, L4Checksum::complete, t0 + 1ms);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::icmp_error_for_other_host);
    CHECK(error == untouched);
    CHECK(nat.counters().drops[DropReason::icmp_error_for_other_host] == 1);
}

TEST_CASE("RFC 5508 REQ-5: a LAN host's ICMP error quoting a flow the NAT does not know is dropped") {
    PacketEngine nat(config());
    Packet never_translated = udp(at(server, 53), at(host_a, 5000));
    Packet error = icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, host_a, server,
                              never_translated, never_translated.size());
    Packet untouched = error;
    auto result = nat.translate_outbound(error, L4Checksum::complete, t0);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::no_mapping_for_icmp_error);
    CHECK(error == untouched);
}

TEST_CASE("RFC 4787 REQ-12: an ICMP error does not end the mapping it reports on") {
    PacketEngine nat(config());
    Packet left = sent_through(nat, udp(at(host_a, 5000), at(server, 53)));
    Packet error = icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, server, wan_address,
                              left, left.size());
    REQUIRE(nat.translate_inbound(error, L4Checksum::complete, t0 + 1s).verdict == Verdict::forward);

    Packet reply = udp(at(server, 53), source_of(left));
    CHECK(nat.translate_inbound(reply, L4Checksum::complete, t0 + 2s).verdict == Verdict::forward);
    CHECK(source_of(sent_through(nat, udp(at(host_a, 5000), at(server, 53)), t0 + 3s)) == source_of(left));
}

TEST_CASE("RFC 5508 REQ-6: an ICMP error about an echo does not refresh its mapping") {
    PacketEngine nat(config());
    Packet left = sent_through(nat, icmp_echo(host_a, server, icmp_type::echo_request, 9, 1));
    Packet error = icmp_error(icmp_type::time_exceeded, 0, router, wan_address, left, left.size());
    REQUIRE(nat.translate_inbound(error, L4Checksum::complete, t0 + 59s).verdict == Verdict::forward);

    Packet late_reply = icmp_echo(server, wan_address, icmp_type::echo_reply, source_of(left).port.value, 1);
    auto result = nat.translate_inbound(late_reply, L4Checksum::complete, t0 + 60s);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::denied_by_policy);
}

TEST_CASE("RFC 5508 REQ-3: an ICMP error whose checksum fails to validate is dropped") {
    PacketEngine nat(config());
    Packet left = sent_through(nat, udp(at(host_a, 5000), at(server, 53)));
    Packet received = udp(at(server, 53), mapped_endpoint(nat, Protocol::udp, at(host_a, 5000)));
    REQUIRE(nat.translate_inbound(received, L4Checksum::complete, t0).verdict == Verdict::forward);

    SECTION("from the WAN") {
        Packet error = icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, server,
                                  wan_address, left, left.size());
        put16(error, 22, std::uint16_t(get16(error, 22) ^ 0x0101));  // the ICMP checksum
        REQUIRE_FALSE(checksums_valid(error));
        Packet untouched = error;
        auto result = nat.translate_inbound(error, L4Checksum::complete, t0 + 1ms);
        CHECK(result.verdict == Verdict::drop);
        CHECK(result.reason == DropReason::bad_icmp_error_checksum);
        CHECK(error == untouched);
        CHECK(nat.counters().drops[DropReason::bad_icmp_error_checksum] == 1);
    }
    SECTION("from a LAN host") {
        Packet error = icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, host_a, server,
                                  received, received.size());
        error.back() ^= 0x40;  // damage in the quote, which the ICMP checksum covers
        REQUIRE_FALSE(checksums_valid(error));
        Packet untouched = error;
        auto result = nat.translate_outbound(error, L4Checksum::complete, t0 + 1ms);
        CHECK(result.verdict == Verdict::drop);
        CHECK(result.reason == DropReason::bad_icmp_error_checksum);
        CHECK(error == untouched);
    }
}

TEST_CASE("RFC 5508 REQ-3: an ICMP error whose quoted IP header fails its checksum is dropped") {
    PacketEngine nat(config());
    Packet left = sent_through(nat, udp(at(host_a, 5000), at(server, 53)));
    Packet received = udp(at(server, 53), mapped_endpoint(nat, Protocol::udp, at(host_a, 5000)));
    REQUIRE(nat.translate_inbound(received, L4Checksum::complete, t0).verdict == Verdict::forward);
    // The quoted header's checksum is damaged and the ICMP checksum made right over it:
    // only the quoted header's own checksum can tell.
    auto damage_quoted_ip_checksum = [](Packet& error) {
        constexpr std::size_t quoted_ip_checksum = 20 + 8 + 10;
        put16(error, quoted_ip_checksum, std::uint16_t(get16(error, quoted_ip_checksum) ^ 0x0101));
        refresh_l4_checksum(error);
        REQUIRE_FALSE(checksums_valid(error));
    };

    SECTION("from the WAN") {
        Packet error = icmp_error(icmp_type::destination_unreachable, icmp_code::fragmentation_needed, server,
                                  wan_address, left, left.size(), 1400);
        damage_quoted_ip_checksum(error);
        auto result = nat.translate_inbound(error, L4Checksum::complete, t0 + 1ms);
        CHECK(result.verdict == Verdict::drop);
        CHECK(result.reason == DropReason::bad_quoted_ip_checksum);
        CHECK(nat.counters().drops[DropReason::bad_quoted_ip_checksum] == 1);
    }
    SECTION("from a LAN host") {
        Packet error = icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, host_a, server,
                                  received, received.size());
        damage_quoted_ip_checksum(error);
        auto result = nat.translate_outbound(error, L4Checksum::complete, t0 + 1ms);
        CHECK(result.verdict == Verdict::drop);
        CHECK(result.reason == DropReason::bad_quoted_ip_checksum);
    }
}

TEST_CASE("an ICMP error quoting the gateway's own echo reply is not sent to a LAN host pinging with that identifier") {
    PacketEngine nat(config());
    // host_a pings out with identifier 40000, which the NAT keeps.
    REQUIRE(source_of(sent_through(nat, icmp_echo(host_a, server, icmp_type::echo_request, 40000, 1))).port ==
            Port{40000});
    // Someone pinged the gateway with the same identifier; the gateway's own echo reply
    // (not a NAT flow: the NAT maps only echo requests going out) met a routing loop.
    Packet gateway_reply = icmp_echo(wan_address, other_server, icmp_type::echo_reply, 40000, 1);
    Packet error = icmp_error(icmp_type::time_exceeded, 0, router, wan_address, gateway_reply, gateway_reply.size());
    Packet untouched = error;
    auto result = nat.translate_inbound(error, L4Checksum::complete, t0 + 1ms);
    CHECK(result.verdict != Verdict::forward);
    CHECK(error == untouched);
}

TEST_CASE("a LAN host's ICMP error quoting an echo request is not translated: the NAT never delivers requests") {
    PacketEngine nat(config());
    // host_a pings out with identifier 40000, which the NAT keeps.
    sent_through(nat, icmp_echo(host_a, server, icmp_type::echo_request, 40000, 1));
    Packet request = icmp_echo(server, host_a, icmp_type::echo_request, 40000, 1);
    Packet error = icmp_error(icmp_type::parameter_problem, 0, host_a, server, request, request.size());
    Packet untouched = error;
    auto result = nat.translate_outbound(error, L4Checksum::complete, t0 + 1ms);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::malformed_icmp_error);
    CHECK(error == untouched);
}

}  // namespace gw::test
