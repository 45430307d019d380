// The PCP server (RFC 6887) as a front end of the one mapping policy: what each request
// grants, refreshes, deletes or is refused, and that UPnP's rules hold for it too.
#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

#include "igd/mapping_policy.hpp"
#include "igd/pcp_responder.hpp"
#include "pcp_fixtures.hpp"

namespace gw {
namespace {

using namespace pcp_test;
using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;

const PcpMapData& map_data(const Answered& answered) { return std::get<PcpMapData>(answered.response.data); }

MapRequest map_request(std::uint16_t internal_port, std::uint16_t suggested = 0, std::uint8_t nonce_seed = 1) {
    MapRequest r;
    r.internal_port = internal_port;
    r.suggested_port = suggested;
    r.mapping_nonce = nonce(nonce_seed);
    return r;
}

// A UPnP AddPortMapping of `port` by `host` to itself.
void upnp_maps(MappingPolicy& policy, std::uint16_t port, Ipv4Address host) {
    PortMapping m;
    m.protocol = Protocol::tcp;
    m.external = Port{port};
    m.internal = Endpoint{host, Port{port}};
    m.description = "upnp";
    REQUIRE(std::holds_alternative<PortMapping>(policy.grant(m, host, 3600, t0)));
}

}  // namespace

TEST_CASE("a MAP is granted on the suggested port when it is free, through the mapping policy") {
    MappingPolicy policy(igd_config(), {});
    auto answered = ask(policy, map_request(5000, 6000).bytes());
    const PcpResponse& response = answered.response;
    CHECK(response.result == PcpResult::success);
    CHECK(response.opcode == PcpOpcode::map);
    CHECK(response.lifetime == 3600);
    CHECK(map_data(answered) == PcpMapData{nonce(1), 6, Port{5000}, Port{6000}, pcp_address_of(wan_address)});
    CHECK(answered.answer.response[1] == 0x81);  // R bit and MAP

    REQUIRE(answered.answer.changes.granted.size() == 1);
    const PortMapping& granted = answered.answer.changes.granted.front();
    CHECK(granted.description == "PCP");
    CHECK(granted.pcp_nonce == nonce(1));
    CHECK(granted.owner == lan(20));
    CHECK(granted.internal == Endpoint{lan(20), Port{5000}});
    // UPnP's listing shows it (GetSpecificPortMappingEntry reads the same policy).
    const PortMapping* listed = policy.find(Protocol::tcp, Port{6000}, std::nullopt, t0);
    REQUIRE(listed);
    CHECK(listed->description == "PCP");
}

TEST_CASE("a MAP without a suggested port gets the internal port when free") {
    MappingPolicy policy(igd_config(), {});
    CHECK(map_data(ask(policy, map_request(5000).bytes())).external_port == Port{5000});
}

TEST_CASE("a UPnP mapping of another client on the suggested port: another port, or CANNOT_PROVIDE_EXTERNAL with PREFER_FAILURE") {
    MappingPolicy policy(igd_config(), {});
    upnp_maps(policy, 6000, lan(21));
    auto moved = ask(policy, map_request(5000, 6000).bytes());
    CHECK(moved.response.result == PcpResult::success);
    CHECK(map_data(moved).external_port != Port{6000});
    CHECK(policy.find(Protocol::tcp, Port{6000}, std::nullopt, t0)->owner == lan(21));

    MappingPolicy fresh(igd_config(), {});
    upnp_maps(fresh, 6000, lan(21));
    MapRequest strict = map_request(5000, 6000);
    strict.options.prefer_failure = true;
    auto refused = ask(fresh, strict.bytes());
    CHECK(refused.response.result == PcpResult::cannot_provide_external);
    CHECK(refused.response.lifetime == pcp_short_error_lifetime_seconds);
    CHECK(refused.answer.changes.empty());
    CHECK(map_data(refused).external_port == Port{6000});  // the suggestion, copied back
}

TEST_CASE("a MAP never takes over the same client's UPnP mapping, and UPnP never takes over a PCP one") {
    MappingPolicy policy(igd_config(), {});
    upnp_maps(policy, 6000, lan(20));
    CHECK(map_data(ask(policy, map_request(6000, 6000).bytes())).external_port != Port{6000});
    CHECK(policy.find(Protocol::tcp, Port{6000}, std::nullopt, t0)->description == "upnp");

    ask(policy, map_request(7000, 7000).bytes());
    PortMapping upnp;
    upnp.external = Port{7000};
    upnp.internal = Endpoint{lan(20), Port{7000}};
    auto result = policy.grant(upnp, lan(20), 3600, t0);
    REQUIRE(std::holds_alternative<MappingRefusal>(result));
    CHECK(std::get<MappingRefusal>(result) == MappingRefusal::conflict);
}

TEST_CASE("a static forward on the suggested port: another port, or CANNOT_PROVIDE_EXTERNAL with PREFER_FAILURE") {
    MappingPolicy policy(igd_config(), {{Protocol::tcp, PortRange{8080, 8080}}});
    CHECK(map_data(ask(policy, map_request(5000, 8080).bytes())).external_port != Port{8080});
    MapRequest strict = map_request(5001, 8080);
    strict.options.prefer_failure = true;
    CHECK(result_of(policy, strict.bytes()) == PcpResult::cannot_provide_external);
}

TEST_CASE("RFC 6887 11.2: the same nonce refreshes the mapping on its port; another nonce is NOT_AUTHORIZED") {
    MappingPolicy policy(igd_config(), {});
    ask(policy, map_request(5000, 6000).bytes());
    MapRequest refresh = map_request(5000, 6100);  // a suggestion does not move an existing mapping
    refresh.lifetime = 7200;
    auto refreshed = ask(policy, refresh.bytes(), context_for(), t0 + 10s);
    CHECK(refreshed.response.result == PcpResult::success);
    CHECK(map_data(refreshed).external_port == Port{6000});
    CHECK(refreshed.response.lifetime == 7200);
    CHECK(policy.size() == 1);

    auto stolen = ask(policy, map_request(5000, 6000, 9).bytes());
    CHECK(stolen.response.result == PcpResult::not_authorized);
    CHECK(stolen.answer.changes.empty());
    CHECK(policy.find(Protocol::tcp, Port{6000}, std::nullopt, t0)->pcp_nonce == nonce(1));
}

TEST_CASE("a client using one nonce for two internal ports gets two mappings, neither overwriting the other") {
    MappingPolicy policy(igd_config(), {});
    ask(policy, map_request(5000, 6000).bytes());
    auto second = ask(policy, map_request(5001, 6000).bytes());
    CHECK(map_data(second).external_port != Port{6000});
    CHECK(policy.find(Protocol::tcp, Port{6000}, std::nullopt, t0)->internal.port == Port{5000});
}

TEST_CASE("lifetime 0 with the mapping's nonce deletes it; with another nonce it is NOT_AUTHORIZED") {
    MappingPolicy policy(igd_config(), {});
    ask(policy, map_request(5000, 6000).bytes());
    MapRequest wrong = map_request(5000, 0, 9);
    wrong.lifetime = 0;
    CHECK(result_of(policy, wrong.bytes()) == PcpResult::not_authorized);
    CHECK(policy.size() == 1);

    MapRequest remove = map_request(5000);
    remove.lifetime = 0;
    auto deleted = ask(policy, remove.bytes());
    CHECK(deleted.response.result == PcpResult::success);
    CHECK(deleted.response.lifetime == 0);
    CHECK(map_data(deleted).external_port == Port{6000});
    REQUIRE(deleted.answer.changes.removed.size() == 1);
    CHECK(deleted.answer.changes.removed.front().external == Port{6000});
    CHECK(policy.find(Protocol::tcp, Port{6000}, std::nullopt, t0) == nullptr);

    // Deleting what is not there succeeds: the client's wish already holds.
    auto again = ask(policy, remove.bytes());
    CHECK(again.response.result == PcpResult::success);
    CHECK(again.answer.changes.empty());
}

TEST_CASE("a delete that finds only a UPnP mapping of the endpoint is NOT_AUTHORIZED") {
    MappingPolicy policy(igd_config(), {});
    upnp_maps(policy, 5000, lan(20));
    MapRequest remove = map_request(5000);
    remove.lifetime = 0;
    CHECK(result_of(policy, remove.bytes()) == PcpResult::not_authorized);
    CHECK(policy.size() == 1);
}

TEST_CASE("lifetime 0 with protocol 0 deletes every PCP mapping of the client that has the nonce") {
    MappingPolicy policy(igd_config(), {});
    ask(policy, map_request(5000).bytes());
    MapRequest udp = map_request(5001);
    udp.protocol = 17;
    ask(policy, udp.bytes());
    ask(policy, map_request(5002, 0, 7).bytes());  // another application's nonce
    upnp_maps(policy, 5003, lan(20));                // and one of UPnP's
    MapRequest all = map_request(0);
    all.protocol = 0;
    all.lifetime = 0;
    auto deleted = ask(policy, all.bytes());
    CHECK(deleted.response.result == PcpResult::success);
    CHECK(deleted.answer.changes.removed.size() == 2);
    CHECK(policy.size() == 2);

    MappingPolicy upnp_only(igd_config(), {});
    upnp_maps(upnp_only, 5003, lan(20));
    CHECK(result_of(upnp_only, all.bytes()) == PcpResult::success);
    CHECK(upnp_only.size() == 1);
}

TEST_CASE("the client address field must be the request's source, or ADDRESS_MISMATCH (section 8.2)") {
    MappingPolicy policy(igd_config(), {});
    MapRequest request = map_request(5000);
    request.client = lan(99);
    auto answered = ask(policy, request.bytes());
    CHECK(answered.response.result == PcpResult::address_mismatch);
    CHECK(answered.answer.response.size() == request.bytes().size());
    CHECK(policy.size() == 0);
}

TEST_CASE("THIRD_PARTY is UNSUPP_OPTION unless allowed, then secure mode still refuses another host") {
    MapRequest request = map_request(5000);
    request.options.third_party = pcp_address_of(lan(30));

    MappingPolicy secure(igd_config(true), {});
    CHECK(result_of(secure, request.bytes()) == PcpResult::unsupp_option);
    auto allowed = context_for();
    allowed.config.allow_third_party = true;
    CHECK(result_of(secure, request.bytes(), allowed) == PcpResult::not_authorized);

    MappingPolicy open(igd_config(false), {});
    auto answered = ask(open, request.bytes(), allowed);
    CHECK(answered.response.result == PcpResult::success);
    CHECK(answered.response.options.third_party == pcp_address_of(lan(30)));  // echoed
    REQUIRE(answered.answer.changes.granted.size() == 1);
    CHECK(answered.answer.changes.granted.front().internal.address == lan(30));
    CHECK(answered.answer.changes.granted.front().owner == lan(20));
}

TEST_CASE("an IPv6 internal host, or the gateway itself, is NOT_AUTHORIZED") {
    MappingPolicy policy(igd_config(false), {});
    auto allowed = context_for();
    allowed.config.allow_third_party = true;
    MapRequest request = map_request(5000);
    request.options.third_party = *Ipv6Address::parse("2001:db8::20");
    CHECK(result_of(policy, request.bytes(), allowed) == PcpResult::not_authorized);
    request.options.third_party = pcp_address_of(gateway_lan);
    CHECK(result_of(policy, request.bytes(), allowed) == PcpResult::not_authorized);
    CHECK(policy.size() == 0);
}

TEST_CASE("the per-client limit is USER_EX_QUOTA and the gateway's limit NO_RESOURCES") {
    IgdConfig config = igd_config();
    config.per_client_limit = 1;
    config.max_mappings = 2;
    MappingPolicy policy(config, {});
    ask(policy, map_request(5000).bytes());
    CHECK(result_of(policy, map_request(5001).bytes()) == PcpResult::user_ex_quota);
    auto from = [](Ipv4Address host) {
        MapRequest request = map_request(5000);
        request.client = host;
        return request.bytes();
    };
    ask(policy, from(lan(21)), context_for(lan(21)));
    CHECK(result_of(policy, from(lan(22)), context_for(lan(22))) == PcpResult::no_resources);
}

TEST_CASE("the permission rules hold for PCP: an internal port below 1024 is NOT_AUTHORIZED") {
    MappingPolicy policy(igd_config(), {});
    CHECK(result_of(policy, map_request(80).bytes()) == PcpResult::not_authorized);
}

TEST_CASE("without a WAN address a MAP is NETWORK_FAILURE, a short lifetime error") {
    MappingPolicy policy(igd_config(), {});
    auto context = context_for();
    context.external_address.reset();
    auto answered = ask(policy, map_request(5000).bytes(), context);
    CHECK(answered.response.result == PcpResult::network_failure);
    CHECK(answered.response.lifetime == pcp_short_error_lifetime_seconds);
    context.external_address = Ipv4Address();  // an interface still waiting for its lease
    CHECK(result_of(policy, map_request(5000).bytes(), context) == PcpResult::network_failure);
    CHECK(policy.size() == 0);
}

TEST_CASE("the lifetime is clamped to the configured range and to the policy's lease cap") {
    MappingPolicy policy(igd_config(), {});
    MapRequest request = map_request(5000);
    request.lifetime = 10;
    CHECK(ask(policy, request.bytes()).response.lifetime == 120);
    request.lifetime = 1'000'000;
    CHECK(ask(policy, request.bytes()).response.lifetime == 86400);
    IgdConfig short_leases = igd_config();
    short_leases.max_lease_seconds = 600;
    MappingPolicy capped(short_leases, {});
    CHECK(ask(capped, request.bytes()).response.lifetime == 600);
}

TEST_CASE("a suggested external address not ours is ignored, or CANNOT_PROVIDE_EXTERNAL with PREFER_FAILURE") {
    MappingPolicy policy(igd_config(), {});
    MapRequest request = map_request(5000, 6000);
    request.suggested_address = pcp_address_of(Ipv4Address::from_octets(198, 51, 100, 1));
    auto answered = ask(policy, request.bytes());
    CHECK(answered.response.result == PcpResult::success);
    CHECK(map_data(answered).external_address == pcp_address_of(wan_address));
    MapRequest strict = map_request(5001, 6001);
    strict.suggested_address = pcp_address_of(Ipv4Address::from_octets(198, 51, 100, 1));
    strict.options.prefer_failure = true;
    CHECK(result_of(policy, strict.bytes()) == PcpResult::cannot_provide_external);
    MapRequest nothing = map_request(5002);
    nothing.options.prefer_failure = true;
    CHECK(result_of(policy, nothing.bytes()) == PcpResult::malformed_option);
}

TEST_CASE("all-protocol, other-protocol and all-port mappings are refused") {
    MappingPolicy policy(igd_config(), {});
    MapRequest all = map_request(0);
    all.protocol = 0;
    CHECK(result_of(policy, all.bytes()) == PcpResult::unsupp_protocol);
    MapRequest sctp = map_request(5000);
    sctp.protocol = 132;
    CHECK(result_of(policy, sctp.bytes()) == PcpResult::unsupp_protocol);
    CHECK(result_of(policy, map_request(0).bytes()) == PcpResult::not_authorized);
    CHECK(policy.size() == 0);
}

TEST_CASE("FILTER: one IPv4 /32 with any port sets the remote host, prefix 0 clears it, wider ones are refused") {
    MappingPolicy policy(igd_config(), {});
    auto peer = Ipv4Address::from_octets(198, 51, 100, 7);
    MapRequest request = map_request(5000, 6000);
    request.options.filters = {filter(peer, 32)};
    auto answered = ask(policy, request.bytes());
    CHECK(answered.response.options.filters == request.options.filters);
    CHECK(answered.answer.changes.granted.front().remote_host == peer);

    // The refresh states the filter again; without one the mapping is open to all.
    request.options.filters = {filter(peer, 32), filter(peer, 0)};
    auto cleared = ask(policy, request.bytes());
    CHECK(map_data(cleared).external_port == Port{6000});
    CHECK(cleared.answer.changes.granted.front().remote_host == std::nullopt);

    request.options.filters = {filter(peer, 24)};
    CHECK(result_of(policy, request.bytes()) == PcpResult::excessive_remote_peers);
    request.options.filters = {filter(peer, 32, 443)};
    CHECK(result_of(policy, request.bytes()) == PcpResult::excessive_remote_peers);
    request.options.filters = {filter(peer, 32), filter(lan(9), 32)};
    CHECK(result_of(policy, request.bytes()) == PcpResult::excessive_remote_peers);
    CHECK(policy.find(Protocol::tcp, Port{6000}, std::nullopt, t0));  // a refusal changed nothing
}

}  // namespace gw
