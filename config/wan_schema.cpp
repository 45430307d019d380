#include "config/wan_schema.hpp"

#include <string>

#include "config/value_parsers.hpp"

namespace gw {
namespace {

Expected<void> store_wan_address(const YAML::Node& node, GatewayConfig& config) {
    const std::string& text = node.Scalar();
    if (text == "auto") {
        config.wan_address.reset();
        return {};
    }
    auto address = Ipv4Address::parse(text);
    if (!address) return refused("expected \"auto\" or an IPv4 address such as 203.0.113.7, got " + quoted(text));
    if (auto why = unusable_host_address(*address)) {
        return refused(quoted(text) + " cannot be the NAT's external address: " + std::string(*why));
    }
    config.wan_address = address;
    return {};
}

// "stun.example.net", "stun.example.net:3478", "192.0.2.1:3478"; empty or "none": no STUN.
Expected<void> store_stun_server(const YAML::Node& node, GatewayConfig& config) {
    const std::string& text = node.Scalar();
    if (text.empty() || text == "none") {
        config.wan_stun.reset();
        return {};
    }
    StunServerConfig server;
    auto colon = text.rfind(':');
    server.host = text.substr(0, colon);
    if (colon != std::string::npos) {
        auto port = PortRange::parse(text.substr(colon + 1));
        if (!port || port->first != port->last || port->first == 0)
            return refused("expected a STUN server as host or host:port with a port of 1 to 65535, got " + quoted(text));
        server.port = std::uint16_t(port->first);
    }
    // A DNS name (letters, digits, '-', '.') or a dotted quad; nothing that could be an option or a path.
    bool name_like = !server.host.empty() && server.host.size() <= 253 && server.host.front() != '-' &&
                     server.host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") ==
                         std::string::npos;
    if (!name_like) return refused("expected a STUN server as host or host:port (a DNS name or IPv4 address), got " + quoted(text));
    config.wan_stun = server;
    return {};
}

}  // namespace

std::vector<SchemaKey> wan_schema_keys() {
    using C = GatewayConfig;
    using N = YAML::Node;
    return {
        {"wan.address", ValueType::ipv4_or_auto, false,
         "External address translated packets leave with; `auto` reads it from wan.interface.",
         store_wan_address,
         [](const C& c) { return c.wan_address ? c.wan_address->to_string() : std::string("auto"); }},
        {"wan.stun", ValueType::host_port, false,
         "STUN server (RFC 5389) asked, from the WAN address, what address the internet sees, at start and whenever "
         "the WAN address changes: `host` or `host:port` (port 3478 unless given); `none` = no STUN. The answer "
         "tells whether another NAT is upstream and is the address UPnP reports.",
         store_stun_server,
         [](const C& c) { return c.wan_stun ? c.wan_stun->to_string() : std::string("none"); }},
        {"wan.cascade_mappings", ValueType::cascade_mappings, false,
         "When another NAT is upstream (private or CGNAT WAN address, or STUN sees another address), `warn` grants "
         "port mappings and logs that the internet cannot reach them; `refuse` refuses them (UPnP 501 ActionFailed).",
         [](const N& v, C& c) { return store_choice(v, cascade_mappings_names, c.cascade_mappings); },
         [](const C& c) { return std::string(enum_name(cascade_mappings_names, c.cascade_mappings)); }},
        {"wan.upstream_mappings", ValueType::upstream_mappings, false,
         "When another NAT is upstream, each opening (UPnP, NAT-PMP and PCP mappings, timed forwards, static "
         "forwards with `upstream: true`) is also requested from it, for the same port where possible, and clients "
         "are told the upstream's address and port: `auto` tries PCP, then NAT-PMP, then UPnP IGD; `pcp`, `natpmp` "
         "or `upnp` only that one; `off` never. Nothing is asked while no other NAT is seen. Restart-only.",
         [](const N& v, C& c) { return store_choice(v, upstream_mappings_names, c.upstream_mappings); },
         [](const C& c) { return std::string(enum_name(upstream_mappings_names, c.upstream_mappings)); }},
        {"wan.upstream_failure", ValueType::upstream_failure, false,
         "When the upstream refuses a fresh mapping or does not answer within 3 s: `keep` keeps the local mapping "
         "and answers the local address and port, with a warning; `refuse` undoes the local grant and answers an "
         "error (UPnP 501, or 718 when the upstream port is taken; NAT-PMP 3 or 4; PCP NO_RESOURCES or "
         "CANNOT_PROVIDE_EXTERNAL). Restart-only.",
         [](const N& v, C& c) { return store_choice(v, upstream_failure_names, c.upstream_failure); },
         [](const C& c) { return std::string(enum_name(upstream_failure_names, c.upstream_failure)); }},
    };
}

}  // namespace gw
