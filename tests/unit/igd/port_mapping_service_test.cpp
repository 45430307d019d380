// The mapping service every front end shares: what a front end's decision changed is
// carried out in one place (packet path commands, lease journal, count, listeners), and
// what was journaled comes back after a restart.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "igd/lease_file.hpp"
#include "igd/port_mapping_service.hpp"

namespace gw {
namespace {

constexpr Ipv4Address host_a = Ipv4Address::from_octets(192, 168, 50, 20);
constexpr Ipv4Address host_b = Ipv4Address::from_octets(192, 168, 50, 21);

struct ScratchDirectory {
    std::filesystem::path path;
    ScratchDirectory() {
        std::string name = (std::filesystem::temp_directory_path() / "gw_service_test_XXXXXX").string();
        REQUIRE(mkdtemp(name.data()) != nullptr);
        path = name;
    }
    ~ScratchDirectory() { std::filesystem::remove_all(path); }
};

IgdConfig service_config(const ScratchDirectory& dir) {
    IgdConfig config;
    config.permissions = {UpnpPermission{true, PortRange{1024, 65535}, *Ipv4Network::parse("192.168.50.0/24"),
                                         PortRange{1024, 65535}}};
    config.lease_file = (dir.path / "leases").string();
    config.lease_sync = LeaseSync::change;
    return config;
}

PortMapping request(std::uint16_t port, Ipv4Address host, Protocol protocol = Protocol::tcp) {
    PortMapping m;
    m.protocol = protocol;
    m.external = Port{port};
    m.internal = Endpoint{host, Port{port}};
    m.description = "service test";
    return m;
}

// A front end's decision: grant one mapping for `host`, report it.
MappingChanges grant_for(PortMappingService& service, std::uint16_t port, Ipv4Address host) {
    return service.with_policy([&](MappingPolicy& policy, Instant now) {
        MappingChanges changes;
        auto granted = policy.grant(request(port, host), host, 3600, now);
        if (auto* m = std::get_if<PortMapping>(&granted)) changes.granted.push_back(*m);
        return changes;
    });
}

std::vector<std::string> command_names(EngineCommandQueue& queue) {
    std::vector<std::string> names;
    for (const auto& command : queue.take()) {
        if (const auto* open = std::get_if<OpenPortMapping>(&command))
            names.push_back("open " + std::to_string(open->mapping.external.value) + " " +
                            to_string(open->mapping.internal));
        else if (const auto* close = std::get_if<ClosePortMapping>(&command))
            names.push_back("close " + std::to_string(close->external.value));
    }
    return names;
}

std::vector<PortMapping> lease_file_mappings(const IgdConfig& config) {
    auto text = read_lease_file(config.lease_file);
    return parse_leases(text.value(), wall_clock_seconds(), monotonic_now()).mappings;
}

}  // namespace

TEST_CASE("a granted mapping is opened in the packet path, journaled, counted and announced") {
    ScratchDirectory dir;
    IgdConfig config = service_config(dir);
    EngineCommandQueue queue;
    PortMappingService service(config, {}, queue);
    service.start();
    std::vector<std::size_t> announced;
    service.add_change_listener([&](std::size_t count) { announced.push_back(count); });

    auto changes = grant_for(service, 5000, host_a);
    REQUIRE(changes.granted.size() == 1);
    CHECK(command_names(queue) == std::vector<std::string>{"open 5000 192.168.50.20:5000"});
    CHECK(service.mapping_count() == 1);
    CHECK(announced == std::vector<std::size_t>{1});
    CHECK(service.next_lease_end().has_value());
    auto saved = lease_file_mappings(config);
    REQUIRE(saved.size() == 1);
    CHECK(saved[0].external == Port{5000});
}

TEST_CASE("a decision that changes nothing opens nothing and announces nothing") {
    ScratchDirectory dir;
    EngineCommandQueue queue;
    PortMappingService service(service_config(dir), {}, queue);
    service.start();
    grant_for(service, 5000, host_a);
    command_names(queue);
    int announcements = 0;
    service.add_change_listener([&](std::size_t) { ++announcements; });

    // host_b asks for host_a's port: 718, nothing changes.
    auto changes = grant_for(service, 5000, host_b);
    CHECK(changes.empty());
    CHECK(command_names(queue).empty());
    CHECK(announcements == 0);
}

TEST_CASE("a removal reported by a front end closes the port and is journaled") {
    ScratchDirectory dir;
    IgdConfig config = service_config(dir);
    EngineCommandQueue queue;
    PortMappingService service(config, {}, queue);
    service.start();
    grant_for(service, 5000, host_a);
    grant_for(service, 5001, host_a);
    command_names(queue);

    service.with_policy([&](MappingPolicy& policy, Instant now) {
        MappingChanges changes;
        const PortMapping* held = policy.find(Protocol::tcp, Port{5000}, std::nullopt, now);
        REQUIRE(held != nullptr);
        PortMapping copy = *held;
        REQUIRE_FALSE(policy.remove(Protocol::tcp, Port{5000}, std::nullopt, host_a, now));
        changes.removed.push_back(copy);
        return changes;
    });
    CHECK(command_names(queue) == std::vector<std::string>{"close 5000"});
    CHECK(service.mapping_count() == 1);
    auto saved = lease_file_mappings(config);
    REQUIRE(saved.size() == 1);
    CHECK(saved[0].external == Port{5001});
}

TEST_CASE("a restarted service reopens the journaled mappings in the packet path") {
    ScratchDirectory dir;
    IgdConfig config = service_config(dir);
    {
        EngineCommandQueue queue;
        PortMappingService service(config, {}, queue);
        service.start();
        grant_for(service, 6000, host_b);
    }
    EngineCommandQueue queue;
    PortMappingService restarted(config, {}, queue);
    restarted.start();
    CHECK(command_names(queue) == std::vector<std::string>{"open 6000 192.168.50.21:6000"});
    CHECK(restarted.mapping_count() == 1);
    REQUIRE(restarted.mappings().size() == 1);
    CHECK(restarted.mappings()[0].owner == host_b);
}

TEST_CASE("the administrator deletes another host's mapping through the service") {
    ScratchDirectory dir;
    EngineCommandQueue queue;
    PortMappingService service(service_config(dir), {}, queue);
    service.start();
    grant_for(service, 7000, host_a);
    command_names(queue);
    std::vector<std::size_t> announced;
    auto id = service.add_change_listener([&](std::size_t count) { announced.push_back(count); });

    CHECK_FALSE(service.delete_mapping_as_administrator(Protocol::tcp, Port{7000}));
    CHECK(command_names(queue) == std::vector<std::string>{"close 7000"});
    CHECK(announced == std::vector<std::size_t>{0});
    CHECK(service.delete_mapping_as_administrator(Protocol::tcp, Port{7000}) == MappingRefusal::no_such_entry);

    // A removed listener hears nothing more.
    service.remove_change_listener(id);
    grant_for(service, 7001, host_a);
    CHECK(announced.size() == 1);
}

TEST_CASE("ports reserved by a reload are refused to new grants (729)") {
    ScratchDirectory dir;
    EngineCommandQueue queue;
    PortMappingService service(service_config(dir), {}, queue);
    service.start();
    service.use_static_forwards({{Protocol::tcp, PortRange{8000, 8000}}});
    auto result = service.with_policy([&](MappingPolicy& policy, Instant now) {
        struct {
            std::variant<PortMapping, MappingRefusal> granted;
            MappingChanges changes;
        } r{policy.grant(request(8000, host_a), host_a, 60, now), {}};
        return r;
    });
    REQUIRE(std::holds_alternative<MappingRefusal>(result.granted));
    CHECK(std::get<MappingRefusal>(result.granted) == MappingRefusal::conflict_with_other_mechanisms);
    CHECK(command_names(queue).empty());
}

}  // namespace gw
