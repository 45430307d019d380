// PCP MAP for an IPv6 internal address (RFC 6887 §11 on an IPv6 firewall, issue 8's last
// part): the mapping is a pinhole the pinhole policy decides, and the response assigns the
// host's own address and port, since IPv6 is not translated.
#include <catch2/catch.hpp>

#include "igd/pcp_responder.hpp"
#include "igd/pinhole_policy.hpp"
#include "pcp_fixtures.hpp"

namespace gw {
namespace {

using namespace pcp_test;

const Ipv6Address lan6_host = *Ipv6Address::parse("2001:db8:1::20");

// The responder with THIRD_PARTY allowed and a pinhole policy behind its opener.
struct PinholeResponder {
    explicit PinholeResponder(bool secure_mode = false, PinholeConfig config = {})
        : pinholes(config, secure_mode, PinholeEnvironment{{*Ipv6Network::parse("2001:db8:1::/64")}, {}, 7440, 300}) {
        context = context_for();
        context.config.allow_third_party = true;
        context.open_pinhole = [this](const PinholeRequest& request, const Ipv6Address& requester) {
            return pinhole_grant(pinholes.add(request, requester, t0));
        };
    }
    PinholePolicy pinholes;
    MappingPolicy mappings{igd_config(false), {}};
    PcpRequestContext context;
};

MapRequest map_for(const Ipv6Address& host, std::uint16_t port = 5000) {
    MapRequest request;
    request.internal_port = port;
    request.suggested_address = host;
    request.options.third_party = host;
    return request;
}

}  // namespace

TEST_CASE("a PCP MAP for an IPv6 host opens a pinhole and assigns the host's own address and port") {
    PinholeResponder responder;
    auto answered = ask(responder.mappings, map_for(lan6_host).bytes(), responder.context);
    CHECK(answered.response.result == PcpResult::success);
    CHECK(answered.response.lifetime == 3600);
    const auto& assigned = std::get<PcpMapData>(answered.response.data);
    CHECK(assigned.external_address == lan6_host);
    CHECK(assigned.external_port == Port{5000});
    CHECK(assigned.nonce == nonce(1));
    CHECK(answered.answer.changes.empty());  // no NAT mapping
    CHECK(responder.mappings.size() == 0);

    auto held = responder.pinholes.all();
    REQUIRE(held.size() == 1);
    CHECK(held[0].pinhole.internal_client == lan6_host);
    CHECK(held[0].pinhole.internal_port == 5000);
    CHECK(held[0].pinhole.protocol == ip_protocol_tcp);
    CHECK_FALSE(held[0].pinhole.remote_host);
    CHECK(held[0].owner == v4_mapped(lan(20)));
}

TEST_CASE("a PCP MAP for an IPv6 host with one FILTER lets in only that remote host and port") {
    PinholeResponder responder;
    MapRequest request = map_for(lan6_host);
    const Ipv6Address remote = *Ipv6Address::parse("2001:db8:99::7");
    request.options.filters = {PcpFilter{128, Port{443}, remote}};
    CHECK(ask(responder.mappings, request.bytes(), responder.context).response.result == PcpResult::success);
    auto held = responder.pinholes.all();
    REQUIRE(held.size() == 1);
    CHECK(held[0].pinhole.remote_host == remote);
    CHECK(held[0].pinhole.remote_port == 443);

    request.options.filters = {PcpFilter{64, Port{0}, remote}};
    CHECK(result_of(responder.mappings, request.bytes(), responder.context) == PcpResult::excessive_remote_peers);
}

TEST_CASE("a PCP MAP for an IPv6 host gets the pinhole policy's refusals as PCP result codes") {
    SECTION("secure mode: an IPv4 client cannot show it is the IPv6 host") {
        PinholeResponder responder(true);
        CHECK(result_of(responder.mappings, map_for(lan6_host).bytes(), responder.context) ==
              PcpResult::not_authorized);
        CHECK(responder.pinholes.size() == 0);
    }
    SECTION("a host outside the LAN's IPv6 prefixes") {
        PinholeResponder responder;
        CHECK(result_of(responder.mappings, map_for(*Ipv6Address::parse("2001:db8:2::20")).bytes(),
                        responder.context) == PcpResult::not_authorized);
    }
    SECTION("the client's pinhole limit") {
        PinholeConfig config;
        config.per_client_limit = 1;
        PinholeResponder responder(false, config);
        CHECK(result_of(responder.mappings, map_for(lan6_host, 5000).bytes(), responder.context) == PcpResult::success);
        CHECK(result_of(responder.mappings, map_for(lan6_host, 5001).bytes(), responder.context) ==
              PcpResult::no_resources);
    }
    SECTION("a delete: pinholes end with their lease") {
        PinholeResponder responder;
        MapRequest request = map_for(lan6_host);
        request.lifetime = 0;
        CHECK(result_of(responder.mappings, request.bytes(), responder.context) == PcpResult::not_authorized);
    }
    SECTION("without a pinhole service") {
        PinholeResponder responder;
        responder.context.open_pinhole = nullptr;
        CHECK(result_of(responder.mappings, map_for(lan6_host).bytes(), responder.context) ==
              PcpResult::not_authorized);
    }
}

}  // namespace gw
