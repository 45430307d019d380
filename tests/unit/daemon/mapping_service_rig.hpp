// The mapping service as the control tests run it: its lease file in a scratch directory,
// its clock a variable the test moves, its commands applied to an engine when the test
// says so (the daemon's loop does it between batches), so that a test can hold a grant
// "still in the command queue" for as long as it likes.
#pragma once

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "daemon/engine_commands.hpp"
#include "igd/lease_file.hpp"
#include "igd/port_mapping_service.hpp"
#include "packet_builder.hpp"

namespace gw::test {

struct MappingServiceRig {
    struct Directory {
        std::filesystem::path path;
        Directory() {
            std::string name = (std::filesystem::temp_directory_path() / "gw_service_rig_XXXXXX").string();
            REQUIRE(mkdtemp(name.data()) != nullptr);
            path = name;
        }
        ~Directory() { std::filesystem::remove_all(path); }
    };

    static IgdConfig config_in(const Directory& dir) {
        IgdConfig config;
        config.secure_mode = false;
        config.permissions = {UpnpPermission{true, PortRange{1024, 65535}, *Ipv4Network::parse("192.168.0.0/16"),
                                             PortRange{1, 65535}}};
        config.lease_file = (dir.path / "leases").string();
        config.lease_sync = LeaseSync::change;
        return config;
    }

    explicit MappingServiceRig(Instant start = t0, std::vector<std::pair<Protocol, PortRange>> static_ports = {})
        : now(start),
          config(config_in(dir)),
          service(config, std::move(static_ports), queue,
                  ServiceClock{[this] { return now; }, [] { return wall_clock_seconds(); }}) {}

    // What the daemon's loop does between batches.
    void apply(PacketEngine& engine) {
        for (const auto& command : queue.take()) apply_engine_command(engine, command);
    }

    // A UPnP AddPortMapping as the IGD decides it: the policy grants, the service carries out.
    std::variant<PortMapping, MappingRefusal> grant(std::uint16_t port, Endpoint internal,
                                                    std::uint32_t lease_seconds = 3600,
                                                    Protocol protocol = Protocol::tcp) {
        struct Result {
            std::variant<PortMapping, MappingRefusal> outcome;
            MappingChanges changes;
        };
        return service
            .with_policy([&](MappingPolicy& policy, Instant at) {
                PortMapping request;
                request.protocol = protocol;
                request.external = Port{port};
                request.internal = internal;
                request.description = "rig";
                Result r{policy.grant(request, internal.address, lease_seconds, at), {}};
                if (auto* granted = std::get_if<PortMapping>(&r.outcome)) r.changes.granted.push_back(*granted);
                return r;
            })
            .outcome;
    }

    // What the lease file would give back after a restart now.
    std::vector<PortMapping> journaled() const {
        auto text = read_lease_file(config.lease_file);
        return parse_leases(text.value_or(""), wall_clock_seconds(), now).mappings;
    }

    Directory dir;
    Instant now;
    IgdConfig config;
    EngineCommandQueue queue;
    PortMappingService service;
};

}  // namespace gw::test
