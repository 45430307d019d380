// The daemon's PCP handler: the responder with the server's LAN address, pcp.*'s
// settings and PEER's view of the engine's mappings (daemon/pcp_handler.hpp).
#include <catch2/catch.hpp>

#include <future>
#include <mutex>
#include <thread>

#include "daemon/pcp_handler.hpp"
#include "engine_setup.hpp"
#include "pcp_fixtures.hpp"

namespace gw {
namespace {

using test::at;
using test::Packet;
using test::host_a;
using test::server;
namespace pcp = pcp_test;

constexpr Instant now = std::chrono::seconds(100);
constexpr Ipv4Address gateway_lan = Ipv4Address::from_octets(192, 168, 1, 1);

IgdConfig open_policy() {
    IgdConfig config;
    config.secure_mode = false;
    config.permissions = {UpnpPermission{true, {1024, 65535}, *Ipv4Network::parse("192.168.0.0/16"), {1024, 65535}}};
    return config;
}

PortControlContext port_control() {
    PortControlContext context;
    context.external_address = test::wan_address;
    context.epoch_seconds = 9;
    return context;
}

// The external port the engine gave host_a:5000's first UDP packet to the server.
Port translate_first_packet(PacketEngine& engine) {
    Packet packet = test::udp(at(host_a, 5000), at(server, 3478), {1, 2, 3});
    REQUIRE(test::outbound(engine, packet, now).verdict == Verdict::forward);
    return test::source_of(packet).port;
}

pcp::PeerRequest peer_request() {
    pcp::PeerRequest peer;
    peer.map.client = host_a;
    peer.map.protocol = 17;
    peer.map.internal_port = 5000;
    peer.remote = server;
    peer.remote_port = 3478;
    return peer;
}

}  // namespace

TEST_CASE("PEER is answered with the port the engine's NAT gave the flow, once it has one") {
    PacketEngine engine(test::engine_setup());
    std::mutex engine_lock;
    MappingPolicy policy(open_policy(), {});
    auto handler = make_pcp_handler(gateway_lan, PcpConfig{}, engine_outbound_mapping(engine, engine_lock));

    auto before = handler(peer_request().bytes(), at(host_a, 40000), port_control(), policy, now);
    CHECK(pcp::decoded_response(before.response).result == PcpResult::no_resources);

    Port external = translate_first_packet(engine);
    auto after = handler(peer_request().bytes(), at(host_a, 40000), port_control(), policy, now);
    auto response = pcp::decoded_response(after.response);
    CHECK(response.result == PcpResult::success);
    CHECK(response.epoch_seconds == 9);
    CHECK(std::get<PcpPeerData>(response.data).map.external_port == external);
    CHECK(after.changes.empty());
}

TEST_CASE("PEER does not wait for the engine's lock: a busy engine is NO_RESOURCES") {
    PacketEngine engine(test::engine_setup());
    std::mutex engine_lock;
    translate_first_packet(engine);
    auto lookup = engine_outbound_mapping(engine, engine_lock);
    CHECK(lookup(Protocol::udp, at(host_a, 5000), at(server, 3478)).has_value());
    CHECK_FALSE(lookup(Protocol::tcp, at(host_a, 5000), at(server, 3478)).has_value());

    std::promise<void> locked, release;
    std::thread worker([&] {
        std::lock_guard hold(engine_lock);
        locked.set_value();
        release.get_future().wait();
    });
    locked.get_future().wait();
    CHECK_FALSE(lookup(Protocol::udp, at(host_a, 5000), at(server, 3478)).has_value());
    release.set_value();
    worker.join();
}

TEST_CASE("the handler takes pcp.allow_third_party and the server's LAN address from the daemon") {
    PacketEngine engine(test::engine_setup());
    std::mutex engine_lock;
    MappingPolicy policy(open_policy(), {});
    pcp::MapRequest request;
    request.client = host_a;
    request.options.third_party = pcp_address_of(test::host_b);

    auto refusing = make_pcp_handler(gateway_lan, PcpConfig{}, engine_outbound_mapping(engine, engine_lock));
    auto refused = refusing(request.bytes(), at(host_a, 40000), port_control(), policy, now);
    CHECK(pcp::decoded_response(refused.response).result == PcpResult::unsupp_option);
    CHECK(refused.pcp_result == PcpResult::unsupp_option);  // what the server counts

    PcpConfig third_party;
    third_party.allow_third_party = true;
    auto allowing = make_pcp_handler(gateway_lan, third_party, engine_outbound_mapping(engine, engine_lock));
    auto granted = allowing(request.bytes(), at(host_a, 40000), port_control(), policy, now);
    CHECK(pcp::decoded_response(granted.response).result == PcpResult::success);
    REQUIRE(granted.changes.granted.size() == 1);
    CHECK(granted.changes.granted.front().internal.address == test::host_b);

    request.options.third_party = pcp_address_of(gateway_lan);
    auto gateway = allowing(request.bytes(), at(host_a, 40000), port_control(), policy, now);
    CHECK(pcp::decoded_response(gateway.response).result == PcpResult::not_authorized);
}

}  // namespace gw
