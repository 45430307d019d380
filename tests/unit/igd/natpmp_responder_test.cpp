// NAT-PMP as a front end of the one mapping policy (RFC 6886 §3.2-3.5): requests built
// as the RFC lays them out, answered against a real MappingPolicy that UPnP shares.
#include <catch2/catch.hpp>

#include <cstdint>
#include <variant>
#include <vector>

#include "igd/natpmp_responder.hpp"

namespace gw {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;

constexpr Instant t0 = 1'000'000ms;
constexpr Ipv4Address host_a = Ipv4Address::from_octets(192, 168, 50, 10);
constexpr Ipv4Address host_b = Ipv4Address::from_octets(192, 168, 50, 11);
const PortControlContext connected{Ipv4Address::from_octets(203, 0, 113, 1), 77};

IgdConfig policy_config() {
    IgdConfig config;
    config.permissions = {UpnpPermission{true, PortRange{1024, 65535}, *Ipv4Network::parse("192.168.50.0/24"),
                                         PortRange{1024, 65535}}};
    return config;
}

Bytes map_request(Protocol protocol, std::uint16_t internal, std::uint16_t suggested, std::uint32_t lifetime) {
    return Bytes{0,
                 std::uint8_t(protocol == Protocol::udp ? 1 : 2),
                 0,
                 0,
                 std::uint8_t(internal >> 8),
                 std::uint8_t(internal),
                 std::uint8_t(suggested >> 8),
                 std::uint8_t(suggested),
                 std::uint8_t(lifetime >> 24),
                 std::uint8_t(lifetime >> 16),
                 std::uint8_t(lifetime >> 8),
                 std::uint8_t(lifetime)};
}

// The fields of a 16-byte mapping response.
struct MappingResponse {
    std::uint8_t opcode;
    std::uint16_t result;
    std::uint32_t epoch;
    std::uint16_t internal, external;
    std::uint32_t lifetime;
};

MappingResponse read_response(const Bytes& b) {
    REQUIRE(b.size() == 16);
    CHECK(b[0] == 0);
    auto u16 = [&](std::size_t i) { return std::uint16_t((b[i] << 8) | b[i + 1]); };
    auto u32 = [&](std::size_t i) { return std::uint32_t((u16(i) << 16) | u16(i + 2)); };
    return {b[1], u16(2), u32(4), u16(8), u16(10), u32(12)};
}

// host_b's UPnP mapping: what the IGD would have granted.
PortMapping upnp_mapping(MappingPolicy& policy, Ipv4Address host, std::uint16_t port, Protocol protocol) {
    PortMapping m;
    m.protocol = protocol;
    m.external = Port{port};
    m.internal = Endpoint{host, Port{port}};
    m.description = "upnpc";
    auto granted = policy.grant(m, host, 3600, t0);
    REQUIRE(std::holds_alternative<PortMapping>(granted));
    return std::get<PortMapping>(granted);
}

}  // namespace

TEST_CASE("NAT-PMP grants the suggested port to the requesting host, described as NAT-PMP") {
    MappingPolicy policy(policy_config(), {});
    auto answer = answer_natpmp(map_request(Protocol::udp, 5000, 5000, 3600), host_a, connected, policy, t0);
    auto r = read_response(answer.response);
    CHECK(r.opcode == 129);
    CHECK(r.result == 0);
    CHECK(r.epoch == 77);
    CHECK(r.internal == 5000);
    CHECK(r.external == 5000);
    CHECK(r.lifetime == 3600);
    REQUIRE(answer.changes.granted.size() == 1);
    const PortMapping& m = answer.changes.granted[0];
    CHECK(m.internal == Endpoint{host_a, Port{5000}});
    CHECK(m.owner == host_a);
    CHECK(m.description == "NAT-PMP 5000 udp");
    CHECK(is_natpmp_mapping(m));
    CHECK(policy.find(Protocol::udp, Port{5000}, std::nullopt, t0) != nullptr);
}

TEST_CASE("NAT-PMP with suggested port 0 is given the internal port when free") {
    MappingPolicy policy(policy_config(), {});
    auto r = read_response(answer_natpmp(map_request(Protocol::tcp, 6000, 0, 60), host_a, connected, policy, t0).response);
    CHECK(r.opcode == 130);
    CHECK(r.external == 6000);
}

TEST_CASE("NAT-PMP asking for a port another host holds over UPnP is given another port") {
    MappingPolicy policy(policy_config(), {});
    PortMapping upnp = upnp_mapping(policy, host_b, 7000, Protocol::tcp);
    auto answer = answer_natpmp(map_request(Protocol::tcp, 7000, 7000, 600), host_a, connected, policy, t0);
    auto r = read_response(answer.response);
    CHECK(r.result == 0);
    CHECK(r.external != 7000);
    CHECK(r.external >= 1024);
    // The UPnP mapping is untouched.
    const PortMapping* held = policy.find(Protocol::tcp, Port{7000}, std::nullopt, t0);
    REQUIRE(held != nullptr);
    CHECK(*held == upnp);
    CHECK(answer.changes.removed.empty());
}

TEST_CASE("a UPnP request for a port NAT-PMP granted to another host is a conflict (718)") {
    MappingPolicy policy(policy_config(), {});
    answer_natpmp(map_request(Protocol::udp, 7100, 7100, 600), host_a, connected, policy, t0);
    PortMapping m;
    m.protocol = Protocol::udp;
    m.external = Port{7100};
    m.internal = Endpoint{host_b, Port{7100}};
    auto refused = policy.grant(m, host_b, 600, t0);
    REQUIRE(std::holds_alternative<MappingRefusal>(refused));
    CHECK(std::get<MappingRefusal>(refused) == MappingRefusal::conflict);
}

TEST_CASE("a repeat NAT-PMP request for the same internal port renews and keeps the external port") {
    MappingPolicy policy(policy_config(), {});
    upnp_mapping(policy, host_b, 8000, Protocol::udp);
    auto first = read_response(
        answer_natpmp(map_request(Protocol::udp, 8000, 8000, 60), host_a, connected, policy, t0).response);
    REQUIRE(first.external != 8000);
    // Later, suggesting another port: the held mapping is renewed, not a second one made.
    auto again = answer_natpmp(map_request(Protocol::udp, 8000, 9999, 120), host_a, connected, policy, t0 + 30s);
    auto r = read_response(again.response);
    CHECK(r.external == first.external);
    CHECK(r.lifetime == 120);
    REQUIRE(again.changes.granted.size() == 1);
    CHECK(again.changes.removed.empty());
    CHECK(policy.size() == 2);
    CHECK(again.decision.starts_with("renewed"));
}

TEST_CASE("NAT-PMP lifetime 0 deletes the client's mapping and answers port 0, lifetime 0 (RFC 6886 3.4)") {
    MappingPolicy policy(policy_config(), {});
    answer_natpmp(map_request(Protocol::tcp, 5000, 5000, 600), host_a, connected, policy, t0);
    auto answer = answer_natpmp(map_request(Protocol::tcp, 5000, 0, 0), host_a, connected, policy, t0 + 1s);
    auto r = read_response(answer.response);
    CHECK(r.result == 0);
    CHECK(r.internal == 5000);
    CHECK(r.external == 0);
    CHECK(r.lifetime == 0);
    REQUIRE(answer.changes.removed.size() == 1);
    CHECK(answer.changes.removed[0].external == Port{5000});
    CHECK(policy.size() == 0);
}

TEST_CASE("deleting a NAT-PMP mapping that does not exist is answered with success and changes nothing") {
    MappingPolicy policy(policy_config(), {});
    auto answer = answer_natpmp(map_request(Protocol::udp, 5000, 0, 0), host_a, connected, policy, t0);
    CHECK(read_response(answer.response).result == 0);
    CHECK(answer.changes.empty());
}

TEST_CASE("lifetime 0 with internal port 0 deletes all of the client's NAT-PMP mappings of that protocol (3.4)") {
    MappingPolicy policy(policy_config(), {});
    answer_natpmp(map_request(Protocol::udp, 5000, 5000, 600), host_a, connected, policy, t0);
    answer_natpmp(map_request(Protocol::udp, 5001, 5001, 600), host_a, connected, policy, t0);
    answer_natpmp(map_request(Protocol::tcp, 5002, 5002, 600), host_a, connected, policy, t0);
    answer_natpmp(map_request(Protocol::udp, 5003, 5003, 600), host_b, connected, policy, t0);
    upnp_mapping(policy, host_a, 5004, Protocol::udp);  // the same client's UPnP mapping

    auto answer = answer_natpmp(map_request(Protocol::udp, 0, 0, 0), host_a, connected, policy, t0);
    auto r = read_response(answer.response);
    CHECK(r.result == 0);
    CHECK(r.internal == 0);
    CHECK(answer.changes.removed.size() == 2);
    CHECK(policy.find(Protocol::udp, Port{5000}, std::nullopt, t0) == nullptr);
    CHECK(policy.find(Protocol::udp, Port{5001}, std::nullopt, t0) == nullptr);
    CHECK(policy.find(Protocol::tcp, Port{5002}, std::nullopt, t0) != nullptr);
    CHECK(policy.find(Protocol::udp, Port{5003}, std::nullopt, t0) != nullptr);
    CHECK(policy.find(Protocol::udp, Port{5004}, std::nullopt, t0) != nullptr);
}

TEST_CASE("in secure mode a NAT-PMP deletion from one host leaves another host's mapping") {
    IgdConfig config = policy_config();
    config.secure_mode = true;
    MappingPolicy policy(config, {});
    answer_natpmp(map_request(Protocol::tcp, 5000, 5000, 600), host_a, connected, policy, t0);
    auto answer = answer_natpmp(map_request(Protocol::tcp, 5000, 5000, 0), host_b, connected, policy, t0);
    CHECK(answer.changes.empty());
    const PortMapping* held = policy.find(Protocol::tcp, Port{5000}, std::nullopt, t0);
    REQUIRE(held != nullptr);
    CHECK(held->owner == host_a);
}

TEST_CASE("a port the permission rules deny is refused with 2 Not Authorized") {
    MappingPolicy policy(policy_config(), {});  // internal ports 1024-65535 only
    auto answer = answer_natpmp(map_request(Protocol::tcp, 80, 80, 600), host_a, connected, policy, t0);
    auto r = read_response(answer.response);
    CHECK(r.result == 2);
    CHECK(r.internal == 80);
    CHECK(r.external == 0);
    CHECK(r.lifetime == 0);
    CHECK(answer.refusal == MappingRefusal::action_not_authorized);
    CHECK(answer.changes.empty());
}

TEST_CASE("a client at its mapping limit is refused with 4 Out of Resources") {
    IgdConfig config = policy_config();
    config.per_client_limit = 1;
    MappingPolicy policy(config, {});
    answer_natpmp(map_request(Protocol::udp, 5000, 5000, 600), host_a, connected, policy, t0);
    auto answer = answer_natpmp(map_request(Protocol::udp, 5001, 5001, 600), host_a, connected, policy, t0);
    CHECK(read_response(answer.response).result == 4);
    CHECK(answer.refusal == MappingRefusal::no_port_maps_available);
    // Renewing the one it holds still works.
    CHECK(read_response(answer_natpmp(map_request(Protocol::udp, 5000, 5000, 600), host_a, connected, policy, t0)
                            .response)
              .result == 0);
}

TEST_CASE("the lifetime granted is capped by upnp.max_lease") {
    IgdConfig config = policy_config();
    config.max_lease_seconds = 600;
    MappingPolicy policy(config, {});
    auto r = read_response(
        answer_natpmp(map_request(Protocol::udp, 5000, 5000, 7200), host_a, connected, policy, t0).response);
    CHECK(r.lifetime == 600);
}

TEST_CASE("internal port 0 with a lifetime is refused (it only means delete all)") {
    MappingPolicy policy(policy_config(), {});
    auto answer = answer_natpmp(map_request(Protocol::udp, 0, 5000, 600), host_a, connected, policy, t0);
    CHECK(read_response(answer.response).result == 2);
    CHECK(answer.changes.empty());
}

TEST_CASE("without a usable external address every request is a network failure (3)") {
    MappingPolicy policy(policy_config(), {});
    PortControlContext offline{std::nullopt, 3};
    auto address = answer_natpmp(Bytes{0, 0}, host_a, offline, policy, t0);
    CHECK(address.response == Bytes{0, 128, 0, 3, 0, 0, 0, 3, 0, 0, 0, 0});
    auto mapping = answer_natpmp(map_request(Protocol::udp, 5000, 5000, 600), host_a, offline, policy, t0);
    CHECK(read_response(mapping.response).result == 3);
    CHECK(policy.size() == 0);
    PortControlContext zero{Ipv4Address(), 3};
    CHECK(answer_natpmp(Bytes{0, 0}, host_a, zero, policy, t0).result == NatPmpResult::network_failure);
}

TEST_CASE("the external address request is answered with the WAN address and the epoch") {
    MappingPolicy policy(policy_config(), {});
    auto answer = answer_natpmp(Bytes{0, 0}, host_a, connected, policy, t0);
    CHECK(answer.response == Bytes{0, 128, 0, 0, 0, 0, 0, 77, 203, 0, 113, 1});
}

TEST_CASE("unsupported versions and opcodes are answered; responses and short datagrams are not") {
    MappingPolicy policy(policy_config(), {});
    CHECK(answer_natpmp(Bytes{2, 1, 0, 0}, host_a, connected, policy, t0).response ==
          Bytes{0, 129, 0, 1, 0, 0, 0, 77});
    CHECK(answer_natpmp(Bytes{0, 9}, host_a, connected, policy, t0).response == Bytes{0, 137, 0, 5, 0, 0, 0, 77});
    for (const Bytes& silent : {Bytes{}, Bytes{0}, Bytes{0, 128}, Bytes{0, 1, 0, 0}}) {
        auto answer = answer_natpmp(silent, host_a, connected, policy, t0);
        CHECK(answer.response.empty());
        CHECK(answer.ignored_or_malformed.has_value());
    }
}

}  // namespace gw
