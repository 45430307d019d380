// RFC 4787 REQ-8: who may send through a mapping a LAN host opened. Endpoint-independent
// filtering lets anyone in, address-dependent only the addresses the host has sent to,
// address-and-port-dependent (the default) only the exact endpoints.
#include <catch2/catch.hpp>

#include <vector>

#include "engine_setup.hpp"
#include "tcp_connection.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;


// host_a:5000 sends to server:3478 and so holds a UDP port of the range: the WAN endpoint returned.
Endpoint open_mapping(PacketEngine& engine) {
    Packet opens = udp(at(host_a, 5000), at(server, 3478));
    REQUIRE(engine.translate_outbound(opens, L4Checksum::complete, t0).verdict == Verdict::forward);
    const Endpoint mapped = mapped_endpoint(engine, Protocol::udp, at(host_a, 5000));
    REQUIRE(source_of(opens) == mapped);
    return mapped;
}

const FilteringBehaviour every_filtering[] = {FilteringBehaviour::endpoint_independent,
                                              FilteringBehaviour::address_dependent,
                                              FilteringBehaviour::address_and_port_dependent};

}  // namespace

TEST_CASE("RFC 4787 REQ-8: a reply from the endpoint the LAN host contacted is let in under every filtering behaviour") {
    for (FilteringBehaviour filtering : every_filtering) {
        DYNAMIC_SECTION(filtering_behaviour_name(filtering)) {
            PacketEngine engine(engine_setup(filtering));
            const Endpoint mapped = open_mapping(engine);
            Packet reply = udp(at(server, 3478), mapped, payload_of_size(8));
            CHECK(engine.translate_inbound(reply, L4Checksum::complete, t0 + 1s).verdict == Verdict::forward);
            CHECK(reply == udp(at(server, 3478), at(host_a, 5000), payload_of_size(8)));
        }
    }
}

TEST_CASE("a reply from a second WAN host is dropped under address-dependent filtering") {
    PacketEngine engine(engine_setup(FilteringBehaviour::address_dependent));
    const Endpoint mapped = open_mapping(engine);
    Packet stranger = udp(at(other_server, 3478), mapped);
    Packet untouched = stranger;
    auto result = engine.translate_inbound(stranger, L4Checksum::complete, t0 + 1s);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::filtered_by_mapping);
    CHECK(stranger == untouched);
    CHECK(engine.counters().drops[DropReason::filtered_by_mapping] == 1);
    CHECK(engine.flows().size() == 1);
}

TEST_CASE("a reply from a second WAN host is dropped under address-and-port-dependent filtering") {
    PacketEngine engine(engine_setup(FilteringBehaviour::address_and_port_dependent));
    const Endpoint mapped = open_mapping(engine);
    Packet stranger = udp(at(other_server, 3478), mapped);
    Packet untouched = stranger;
    auto result = engine.translate_inbound(stranger, L4Checksum::complete, t0 + 1s);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::filtered_by_mapping);
    CHECK(stranger == untouched);
    CHECK(engine.flows().size() == 1);
}

TEST_CASE("a reply from a second WAN host is let in under endpoint-independent filtering") {
    PacketEngine engine(engine_setup(FilteringBehaviour::endpoint_independent));
    const Endpoint mapped = open_mapping(engine);
    Packet stranger = udp(at(other_server, 9999), mapped, payload_of_size(5));
    auto result = engine.translate_inbound(stranger, L4Checksum::complete, t0 + 1s);
    CHECK(result.verdict == Verdict::forward);
    CHECK(stranger == udp(at(other_server, 9999), at(host_a, 5000), payload_of_size(5)));
    CHECK(engine.flows().size() == 2);

    SECTION("and the LAN host's answer leaves from the same external port (RFC 4787 REQ-1)") {
        Packet answer = udp(at(host_a, 5000), at(other_server, 9999));
        REQUIRE(engine.translate_outbound(answer, L4Checksum::complete, t0 + 2s).verdict == Verdict::forward);
        CHECK(source_of(answer) == mapped);
        CHECK(engine.mappings().size() == 1);
    }
}

TEST_CASE("under address-dependent filtering a different port of the same host is let in") {
    PacketEngine engine(engine_setup(FilteringBehaviour::address_dependent));
    const Endpoint mapped = open_mapping(engine);
    Packet other_port = udp(at(server, 3479), mapped);
    CHECK(engine.translate_inbound(other_port, L4Checksum::complete, t0 + 1s).verdict == Verdict::forward);
    CHECK(destination_of(other_port) == at(host_a, 5000));
}

TEST_CASE("under address-and-port-dependent filtering a different port of the same host is dropped") {
    PacketEngine engine(engine_setup(FilteringBehaviour::address_and_port_dependent));
    const Endpoint mapped = open_mapping(engine);
    Packet other_port = udp(at(server, 3479), mapped);
    auto result = engine.translate_inbound(other_port, L4Checksum::complete, t0 + 1s);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::filtered_by_mapping);
}

TEST_CASE("under address-dependent filtering an address the host once sent to stays admitted only while that flow lives") {
    PacketEngine engine(engine_setup(FilteringBehaviour::address_dependent));
    const Endpoint mapped = open_mapping(engine);
    // A second flow keeps the mapping alive after the first one to server has expired.
    Packet keeps_mapping = udp(at(host_a, 5000), at(other_server, 3478));
    REQUIRE(engine.translate_outbound(keeps_mapping, L4Checksum::complete, t0 + 200s).verdict == Verdict::forward);
    REQUIRE(engine.expire_idle(t0 + 300s) == 1);

    Packet from_server = udp(at(server, 3479), mapped);
    auto result = engine.translate_inbound(from_server, L4Checksum::complete, t0 + 301s);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::filtered_by_mapping);
}

TEST_CASE("under endpoint-independent filtering a second WAN host may open TCP to the mapping with a SYN only") {
    PacketEngine engine(engine_setup(FilteringBehaviour::endpoint_independent));
    auto opened = TcpConnection::outbound(at(host_a, 5000), at(server, 443), at(wan_address, 0));
    REQUIRE(send_syn(engine, opened, at(host_a, 5000)).verdict == Verdict::forward);
    const Endpoint mapped = mapped_endpoint(engine, Protocol::tcp, at(host_a, 5000));

    auto peer = TcpConnection::inbound(at(other_server, 6000), mapped, at(host_a, 5000));
    SECTION("a SYN is let in (simultaneous open through the mapping)") {
        Crossing peer_syn = peer.from_client(tcp_flag::syn);
        Packet packet = peer_syn.sent;
        CHECK(engine.translate_inbound(packet, L4Checksum::complete, t0 + 1s).verdict == Verdict::forward);
        CHECK(packet == peer_syn.translated);
    }
    SECTION("a segment of no connection is invalid") {
        Packet packet = peer.from_client(tcp_flag::ack, payload_of_size(10)).sent;
        auto result = engine.translate_inbound(packet, L4Checksum::complete, t0 + 1s);
        CHECK(result.verdict == Verdict::drop);
        CHECK(result.reason == DropReason::invalid_tcp);
        CHECK(engine.mappings().find_by_external(Protocol::tcp, mapped.port)->flow_count == 1);
    }
}

TEST_CASE("filtering never applies to a port no mapping holds: that is the gateway's, for the input policy") {
    for (FilteringBehaviour filtering : every_filtering) {
        DYNAMIC_SECTION(filtering_behaviour_name(filtering)) {
            PacketEngine engine(engine_setup(filtering));
            const Endpoint mapped = open_mapping(engine);
            REQUIRE(mapped.port != Port{40001});
            Packet unmapped = udp(at(server, 3478), at(wan_address, 40001));
            auto result = engine.translate_inbound(unmapped, L4Checksum::complete, t0 + 1s);
            CHECK(result.verdict == Verdict::drop);
            CHECK(result.reason == DropReason::denied_by_policy);
        }
    }
}

}  // namespace gw::test
