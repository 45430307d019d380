// PCP's PEER and ANNOUNCE opcodes, and what answer_pcp says to requests it cannot read
// (RFC 6887 §8.2, §12, §14.1).
#include <catch2/catch.hpp>

#include <optional>
#include <vector>

#include "igd/pcp_responder.hpp"
#include "pcp_fixtures.hpp"

namespace gw {
namespace {

using namespace pcp_test;
using Bytes = std::vector<std::uint8_t>;

}  // namespace

TEST_CASE("PEER reports the NAT's outbound mapping, for at most 120 seconds") {
    MappingPolicy policy(igd_config(), {});
    PeerRequest peer;
    peer.map.protocol = 17;
    CHECK(result_of(policy, peer.bytes()) == PcpResult::no_resources);  // no lookup wired

    auto context = context_for();
    std::optional<Endpoint> asked_internal, asked_remote;
    context.outbound_mapping = [&](Protocol protocol, Endpoint internal, Endpoint remote) -> std::optional<Port> {
        asked_internal = internal;
        asked_remote = remote;
        if (protocol != Protocol::udp) return std::nullopt;
        return Port{61000};
    };
    auto answered = ask(policy, peer.bytes(), context);
    CHECK(answered.response.result == PcpResult::success);
    CHECK(answered.response.lifetime == 120);
    const auto& data = std::get<PcpPeerData>(answered.response.data);
    CHECK(data.map.external_port == Port{61000});
    CHECK(data.map.external_address == pcp_address_of(wan_address));
    CHECK(data.remote_port == Port{3478});
    CHECK(data.remote_address == pcp_address_of(peer.remote));
    CHECK(asked_internal == Endpoint{lan(20), Port{5000}});
    CHECK(asked_remote == Endpoint{peer.remote, Port{3478}});
    CHECK(answered.answer.changes.empty());

    peer.map.protocol = 6;
    CHECK(result_of(policy, peer.bytes(), context) == PcpResult::no_resources);
}

TEST_CASE("PEER towards an IPv6 peer is NOT_AUTHORIZED, and one without ports is MALFORMED_REQUEST") {
    MappingPolicy policy(igd_config(), {});
    PeerRequest peer;
    auto request = peer.request();
    std::get<PcpPeerData>(request.data).remote_address = *Ipv6Address::parse("2001:db8::7");
    CHECK(result_of(policy, encode_pcp_request(request)) == PcpResult::not_authorized);
    peer.remote_port = 0;
    CHECK(result_of(policy, peer.bytes()) == PcpResult::malformed_request);
}

TEST_CASE("ANNOUNCE is answered SUCCESS with lifetime 0 and the epoch") {
    MappingPolicy policy(igd_config(), {});
    auto answered = ask(policy, announce_bytes());
    CHECK(answered.response.result == PcpResult::success);
    CHECK(answered.response.lifetime == 0);
    CHECK(answered.answer.response.size() == 24);
    CHECK(answered.answer.response[1] == 0x80);
}

TEST_CASE("malformed requests are answered with the error and a long lifetime, dropped ones with nothing") {
    MappingPolicy policy(igd_config(), {});
    Bytes bad_version = announce_bytes();
    bad_version[0] = 1;
    auto answered = ask(policy, bad_version);
    CHECK(answered.response.result == PcpResult::unsupp_version);
    CHECK(answered.response.lifetime == pcp_long_error_lifetime_seconds);

    Bytes looped = announce_bytes();
    looped[1] = 0x80;
    PcpAnswer dropped = answer_pcp(looped, context_for(), policy, t0);
    CHECK(dropped.response.empty());
    CHECK_FALSE(dropped.result);
}

TEST_CASE("a NAT-PMP request is answered with NAT-PMP's own unsupported version response") {
    MappingPolicy policy(igd_config(), {});
    Bytes natpmp{0, 1, 0, 0, 0x13, 0x88, 0x13, 0x88, 0, 0, 0x0e, 0x10};
    PcpAnswer answer = answer_pcp(natpmp, context_for(), policy, t0);
    CHECK(answer.response == Bytes{0, 0x81, 0, 1, 0, 0, 0x10, 0x92});
}

TEST_CASE("every mapping refusal has a PCP result code") {
    using enum MappingRefusal;
    for (auto refusal : {invalid_args, action_not_authorized, specified_array_index_invalid, no_such_entry,
                         wildcard_not_permitted_in_ext_port, conflict, no_port_maps_available,
                         conflict_with_other_mechanisms, port_mapping_not_found, wildcard_not_permitted_in_int_port,
                         inconsistent_parameters})
        CHECK(pcp_result_of(refusal) != PcpResult::success);
    CHECK(pcp_result_of(action_not_authorized) == PcpResult::not_authorized);
    CHECK(pcp_result_of(conflict) == PcpResult::cannot_provide_external);
    CHECK(pcp_result_of(no_port_maps_available) == PcpResult::no_resources);
}

}  // namespace gw
