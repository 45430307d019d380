// A reload changes the mapping policy in place (issue 16): the next grant of every front
// end meets the new secure_mode, permissions, limits and lease cap; mappings held stay
// until their leases end, a lease longer than the new cap is shortened to it, and the
// service journals and renews what it shortened.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <variant>

#include "igd/lease_file.hpp"
#include "igd/mapping_policy.hpp"
#include "igd/port_mapping_service.hpp"

namespace gw {
namespace {

using namespace std::chrono_literals;

constexpr Instant t0 = 1'000'000ms;
constexpr Ipv4Address host_a = Ipv4Address::from_octets(192, 168, 50, 20);
constexpr Ipv4Address host_b = Ipv4Address::from_octets(192, 168, 50, 21);

UpnpPermission rule(bool allow, PortRange external, const char* network, PortRange internal) {
    return UpnpPermission{allow, external, *Ipv4Network::parse(network), internal};
}

IgdConfig policy_config() {
    IgdConfig config;
    config.permissions = {rule(true, {1024, 65535}, "192.168.50.0/24", {1024, 65535})};
    config.lan_networks = {*Ipv4Network::parse("192.168.50.0/24")};
    return config;
}

// `requester` asks for tcp `port` towards `internal`, same port, for `lease` seconds.
std::variant<PortMapping, MappingRefusal> ask(MappingPolicy& policy, std::uint16_t port, Ipv4Address requester,
                                              Ipv4Address internal, std::uint32_t lease = 3600, Instant now = t0) {
    PortMapping m;
    m.protocol = Protocol::tcp;
    m.external = Port{port};
    m.internal = Endpoint{internal, Port{port}};
    m.description = "reload test";
    return policy.grant(m, requester, lease, now);
}

bool is_granted(const std::variant<PortMapping, MappingRefusal>& result) {
    return std::holds_alternative<PortMapping>(result);
}

MappingRefusal refusal_of(const std::variant<PortMapping, MappingRefusal>& result) {
    REQUIRE(std::holds_alternative<MappingRefusal>(result));
    return std::get<MappingRefusal>(result);
}

}  // namespace

TEST_CASE("after a reload with secure_mode false a host may map a port to another LAN host") {
    MappingPolicy policy(policy_config(), {});
    CHECK(refusal_of(ask(policy, 5000, host_a, host_b)) == MappingRefusal::action_not_authorized);

    IgdConfig open = policy_config();
    open.secure_mode = false;
    CHECK(policy.reconfigure(open, t0).empty());
    CHECK(is_granted(ask(policy, 5000, host_a, host_b)));
    CHECK_FALSE(policy.secure_mode());
}

TEST_CASE("after a reload with a lower max_lease the next grant's lease is capped by it") {
    MappingPolicy policy(policy_config(), {});
    IgdConfig shorter = policy_config();
    shorter.max_lease_seconds = 600;
    policy.reconfigure(shorter, t0);
    auto granted = ask(policy, 5000, host_a, host_a, 3600);
    REQUIRE(is_granted(granted));
    CHECK(std::get<PortMapping>(granted).expires == t0 + 600s);
}

TEST_CASE("a reload with a lower max_lease shortens the leases held beyond it, and only those") {
    MappingPolicy policy(policy_config(), {});
    REQUIRE(is_granted(ask(policy, 5000, host_a, host_a, 7200)));
    REQUIRE(is_granted(ask(policy, 5001, host_a, host_a, 300)));

    IgdConfig shorter = policy_config();
    shorter.max_lease_seconds = 600;
    auto shortened = policy.reconfigure(shorter, t0 + 60s);
    REQUIRE(shortened.size() == 1);
    CHECK(shortened[0].external == Port{5000});
    CHECK(shortened[0].expires == t0 + 660s);
    CHECK(policy.find(Protocol::tcp, Port{5000}, std::nullopt, t0 + 60s)->expires == t0 + 660s);
    CHECK(policy.find(Protocol::tcp, Port{5001}, std::nullopt, t0 + 60s)->expires == t0 + 300s);
}

TEST_CASE("a reload with a lower per-client limit refuses the next grant and keeps the mappings held") {
    MappingPolicy policy(policy_config(), {});
    for (std::uint16_t port = 5000; port < 5003; ++port) REQUIRE(is_granted(ask(policy, port, host_a, host_a)));

    IgdConfig fewer = policy_config();
    fewer.per_client_limit = 1;
    policy.reconfigure(fewer, t0);
    CHECK(refusal_of(ask(policy, 5003, host_a, host_a)) == MappingRefusal::no_port_maps_available);
    CHECK(policy.size() == 3);
    CHECK(policy.held_outside_policy(t0).over_limits == 2);
    CHECK(policy.held_outside_policy(t0).denied == 0);
    CHECK(is_granted(ask(policy, 5003, host_b, host_b)));  // another host's quota is its own
}

TEST_CASE("a reload with narrower permissions refuses new grants there and counts the mappings they now deny") {
    MappingPolicy policy(policy_config(), {});
    REQUIRE(is_granted(ask(policy, 5000, host_a, host_a)));

    IgdConfig narrow = policy_config();
    narrow.permissions = {rule(true, {6000, 6999}, "192.168.50.0/24", {1024, 65535})};
    policy.reconfigure(narrow, t0);
    CHECK(refusal_of(ask(policy, 5001, host_a, host_a)) == MappingRefusal::action_not_authorized);
    CHECK(is_granted(ask(policy, 6000, host_a, host_a)));
    CHECK(policy.find(Protocol::tcp, Port{5000}, std::nullopt, t0) != nullptr);
    CHECK(policy.held_outside_policy(t0).denied == 1);
}

TEST_CASE("the mapping service journals and renews in the packet path the leases a reload shortened") {
    std::string name = (std::filesystem::temp_directory_path() / "gw_policy_reload_XXXXXX").string();
    REQUIRE(mkdtemp(name.data()) != nullptr);
    const std::filesystem::path dir = name;
    IgdConfig config = policy_config();
    config.lease_file = (dir / "leases").string();
    config.lease_sync = LeaseSync::change;
    Instant now = t0;
    EngineCommandQueue queue;
    {
        PortMappingService service(config, {}, queue, ServiceClock{[&] { return now; }, [] { return 1'700'000'000; }});
        service.start();
        service.with_policy([&](MappingPolicy& policy, Instant at) {
            MappingChanges changes;
            changes.granted.push_back(std::get<PortMapping>(ask(policy, 5000, host_a, host_a, 7200, at)));
            return changes;
        });
        REQUIRE(queue.take().size() == 1);

        IgdConfig shorter = config;
        shorter.max_lease_seconds = 600;
        shorter.secure_mode = false;
        now = t0 + 10s;
        auto reloaded = service.use_policy(shorter);
        REQUIRE(reloaded.changes.granted.size() == 1);
        CHECK(service.next_lease_end() == t0 + 610s);
        CHECK(queue.take().size() == 1);  // opened again, as a renewal is
        // The next grant, to another host, meets secure_mode false.
        auto other = service.with_policy([&](MappingPolicy& policy, Instant at) {
            MappingChanges changes;
            auto result = ask(policy, 5001, host_a, host_b, 3600, at);
            if (auto* m = std::get_if<PortMapping>(&result)) changes.granted.push_back(*m);
            return changes;
        });
        CHECK(other.granted.size() == 1);
    }
    // What the file says after the reload: the shortened lease, 600 s from the reload.
    auto text = read_lease_file(config.lease_file);
    auto saved = parse_leases(text.value(), 1'700'000'000, t0 + 10s).mappings;
    REQUIRE(saved.size() == 2);
    CHECK(saved[0].external == Port{5000});
    CHECK(saved[0].expires == t0 + 610s);
    std::filesystem::remove_all(dir);
}

}  // namespace gw
