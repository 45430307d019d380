#include "upstream_probe.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "control_json.hpp"
#include "host_network.hpp"
#include "upstream_discovery.hpp"

namespace gw {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int exit_ok = 0, exit_failure = 1, exit_usage = 2;

const char* probe_usage =
    "usage: gatewayd --upstream-probe WAN-INTERFACE [--protocol auto|pcp|natpmp|upnp] [--map tcp|udp PORT]\n"
    "                [--lifetime SECONDS]\n";

struct ProbeArguments {
    std::string interface;
    std::optional<UpstreamProtocol> only;
    std::optional<Protocol> map_protocol;
    Port map_port;
    std::chrono::seconds lifetime{120};
};

bool parse_probe_arguments(int argc, char** argv, ProbeArguments& args, std::string& problem) {
    if (argc < 3 || argv[2][0] == '-') {
        problem = "--upstream-probe needs the WAN interface";
        return false;
    }
    args.interface = argv[2];
    for (int i = 3; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--protocol" && i + 1 < argc) {
            std::string p = argv[++i];
            if (p == "pcp") args.only = UpstreamProtocol::pcp;
            else if (p == "natpmp") args.only = UpstreamProtocol::natpmp;
            else if (p == "upnp") args.only = UpstreamProtocol::upnp;
            else if (p != "auto") problem = "--protocol is auto, pcp, natpmp or upnp, not '" + p + "'";
        } else if (a == "--map" && i + 2 < argc) {
            std::string p = argv[++i], port = argv[++i];
            if (p == "tcp") args.map_protocol = Protocol::tcp;
            else if (p == "udp") args.map_protocol = Protocol::udp;
            else problem = "--map takes tcp or udp, not '" + p + "'";
            auto range = PortRange::parse(port);
            if (!range || range->first != range->last || range->first == 0) problem = "--map needs a port 1-65535";
            else args.map_port = Port{range->first};
        } else if (a == "--lifetime" && i + 1 < argc) {
            char* end = nullptr;
            long seconds = std::strtol(argv[++i], &end, 10);
            if (*end != '\0' || seconds < 1 || seconds > 86400) problem = "--lifetime is 1 to 86400 seconds";
            args.lifetime = std::chrono::seconds(seconds);
        } else {
            problem = "unknown argument '" + a + "'";
        }
        if (!problem.empty()) return false;
    }
    return true;
}

std::string_view kind_name(UpstreamFailure::Kind kind) {
    switch (kind) {
        case UpstreamFailure::Kind::no_answer: return "no_answer";
        case UpstreamFailure::Kind::refused: return "refused";
        case UpstreamFailure::Kind::port_taken: return "port_taken";
        case UpstreamFailure::Kind::bad_answer: return "bad_answer";
    }
    return "?";
}

std::string failure_json(const UpstreamFailure& failure) {
    return JsonObject().add("kind", kind_name(failure.kind)).add("reason", failure.reason).str();
}

std::int64_t milliseconds_since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

}  // namespace

int upstream_probe_command(int argc, char** argv) {
    ProbeArguments args;
    std::string problem;
    if (!parse_probe_arguments(argc, argv, args, problem)) {
        std::fprintf(stderr, "gatewayd: %s\n%s", problem.c_str(), probe_usage);
        return exit_usage;
    }
    UpstreamWanSide wan;
    wan.interface = args.interface;
    auto address = interface_ipv4_address(args.interface);
    if (!address) {
        std::fprintf(stderr, "gatewayd: %s has no IPv4 address\n", args.interface.c_str());
        return exit_failure;
    }
    wan.address = *address;
    wan.gateway = wan_default_gateway(args.interface);

    JsonObject out;
    out.add("interface", wan.interface).add("wan_address", wan.address.to_string());
    if (wan.gateway) out.add("gateway", wan.gateway->to_string());
    else out.add_null("gateway");
    const auto order = upstream_protocol_order(args.only);
    UpstreamDiscovery found = discover_upstream(order, wan);
    std::vector<std::string> attempts;
    for (const UpstreamAttempt& attempt : found.attempts) {
        JsonObject a;
        a.add("protocol", upstream_protocol_name(attempt.protocol)).add("where", attempt.where);
        a.add("ms", std::int64_t(attempt.took.count()));
        if (attempt.failure) a.add_raw("failure", failure_json(*attempt.failure));
        attempts.push_back(a.str());
    }
    out.add_raw("attempts", json_array(attempts));
    bool ok = found.client != nullptr;
    if (!found.client) {
        out.add_null("found");
    } else {
        out.add("found", upstream_protocol_name(found.client->protocol()));
        out.add("where", found.client->describe());
        out.add("external_address", found.external_address.to_string());
    }
    if (found.client && args.map_protocol) {
        UpstreamRequest request;
        request.protocol = *args.map_protocol;
        request.internal_port = args.map_port;
        request.suggested_external = args.map_port;
        request.lifetime = args.lifetime;
        auto start = Clock::now();
        auto grant = found.client->map(request);
        JsonObject m;
        m.add("protocol", protocol_name(request.protocol)).add("internal_port", int(args.map_port.value));
        m.add("ms", milliseconds_since(start));
        if (!grant) {
            m.add_raw("failure", failure_json(grant.error()));
            ok = false;
        } else {
            m.add("external_address", grant->external_address.to_string());
            m.add("external_port", int(grant->external_port.value));
            m.add("lifetime", std::int64_t(grant->lifetime.count()));
            if (grant->epoch_seconds) m.add("epoch_seconds", std::uint64_t(*grant->epoch_seconds));
            if (grant->nonce) m.add("nonce", true);
        }
        out.add_raw("map", m.str());
        if (grant) {
            // The same mapping again: what a renewal sends (PCP: the same nonce).
            request.nonce = grant->nonce;
            start = Clock::now();
            auto renewed = found.client->map(request);
            JsonObject r;
            r.add("ms", milliseconds_since(start));
            if (!renewed) {
                r.add_raw("failure", failure_json(renewed.error()));
                ok = false;
            } else {
                r.add("external_port", int(renewed->external_port.value));
                r.add("lifetime", std::int64_t(renewed->lifetime.count()));
            }
            out.add_raw("renew", r.str());
            start = Clock::now();
            auto removed = found.client->unmap(request.protocol, request.internal_port, *grant);
            JsonObject u;
            u.add("ms", milliseconds_since(start));
            if (removed) {
                u.add_raw("failure", failure_json(*removed));
                ok = false;
            }
            out.add_raw("unmap", u.str());
        }
    }
    std::puts(out.str().c_str());
    return ok ? exit_ok : exit_failure;
}

}  // namespace gw
