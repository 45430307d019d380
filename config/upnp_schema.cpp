// upnp.*: the keys, their readers and how they are shown. The values end up in
// IgdConfig (igd/igd_config.hpp), which holds the defaults.
#include "config/upnp_schema.hpp"

#include <bit>
#include <cstdio>
#include <optional>

#include "config/printable_text.hpp"
#include "config/value_parsers.hpp"

namespace gw {
namespace {

using C = GatewayConfig;
using N = YAML::Node;

Expected<void> store_igd_version(const N& node, int& field) {
    auto parsed = read_integer(node);
    if (!parsed) return unexpected(parsed.error());
    if (*parsed != 1 && *parsed != 2) {
        return refused("expected 1 or 2 (InternetGatewayDevice:1 or :2), got " + std::to_string(*parsed));
    }
    field = int(*parsed);
    return {};
}

// WANIPConnection:2 caps PortMappingLeaseDuration at 604800 s; one week is also the
// longest a forgotten mapping stays open.
constexpr std::int64_t max_lease_limit = 604800;

// A relative path would depend on the directory the daemon was started from; a
// directory cannot be opened as the file; a control character (NUL above all) would
// make open() use a different path from the one the operator reads.
Expected<void> store_lease_file(const N& node, std::string& field) {
    const std::string& path = node.Scalar();
    if (path.empty()) return refused("the lease file path cannot be empty");
    for (char c : path) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            return refused("the lease file path contains a control character");
        }
    }
    if (path.front() != '/') {
        return refused(quoted(path) + " is a relative path; write an absolute one such as /var/lib/gatewayd/leases");
    }
    std::string_view leaf = std::string_view(path).substr(path.rfind('/') + 1);
    if (leaf.empty() || leaf == "." || leaf == "..") {
        return refused(quoted(path) + " names a directory; write the path of the lease file in it, such as " +
               "/var/lib/gatewayd/leases");
    }
    field = path;
    return {};
}

// C0 and C1 controls, DEL, and the two non-characters XML 1.0 forbids.
bool printable(char32_t code_point) {
    return code_point >= 0x20 && !(code_point >= 0x7f && code_point <= 0x9f) && code_point != 0xfffe &&
           code_point != 0xffff;
}

// UDA 1.1 2.3: friendlyName "Should be < 64 characters", and "Should be localized", so
// any printable UTF-8 is accepted and characters, not bytes, are counted.
constexpr std::size_t friendly_name_max = 63;

Expected<void> store_friendly_name(const N& node, std::string& field) {
    const std::string& name = node.Scalar();
    if (name.empty()) return refused("a friendly name cannot be empty");
    std::size_t characters = 0;
    for (std::size_t i = 0; i < name.size();) {
        auto code_point = next_code_point(name, i);
        if (!code_point) return refused("the friendly name is not valid UTF-8");
        ++characters;
        if (!printable(*code_point)) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "%04X", unsigned(*code_point));
            return refused("the friendly name contains the control character U+" + std::string(hex) + " (character " +
                   std::to_string(characters) + ")");
        }
    }
    if (characters > friendly_name_max) {
        return refused(quoted(name) + " has " + std::to_string(characters) + " characters; a friendly name has at most " +
               std::to_string(friendly_name_max) + " (UPnP Device Architecture: fewer than 64)");
    }
    field = name;
    return {};
}

// miniupnpd also reads "INT-ADDR/255.255.255.0"; a rule copied from its file gets the
// same rule written with a prefix length (host bits are then checked as usual).
std::optional<std::string> dotted_mask_hint(std::string_view word) {
    auto slash = word.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto base = Ipv4Address::parse(word.substr(0, slash));
    auto mask = Ipv4Address::parse(word.substr(slash + 1));
    if (!base || !mask) return std::nullopt;
    int prefix = std::countl_one(mask->host_order());
    if (Ipv4Network{Ipv4Address(), std::uint8_t(prefix)}.mask() != mask->host_order()) return std::nullopt;
    return "write the mask " + mask->to_string() + " as a prefix length: " + base->to_string() + '/' +
           std::to_string(prefix);
}

constexpr std::string_view permission_example = "allow 1024-65535 192.168.50.0/24 1024-65535";

// "allow|deny EXT-PORTS INT-ADDR[/MASKBITS] INT-PORTS", as miniupnpd's
// read_permission_line() reads it, with the strictness of the other keys: host bits
// and leading zeros are refused rather than masked or read as octal.
Expected<UpnpPermission> parse_permission(std::string_view text) {
    std::vector<std::string_view> words = words_of(text);
    if (words.size() != 4) {
        return refused("expected a rule \"allow|deny EXT-PORTS INT-ADDR[/MASKBITS] INT-PORTS\" such as \"" +
                                  std::string(permission_example) + "\", got " + quoted(text));
    }
    auto refuse = [&](std::string_view part, const std::string& why) {
        return refused(quoted(text) + ": " + std::string(part) + ": " + why);
    };
    UpnpPermission permission;
    if (words[0] != "allow" && words[0] != "deny") {
        return refuse("action", "expected allow or deny, got " + quoted(words[0]));
    }
    permission.allow = words[0] == "allow";
    auto external = parse_port_range(words[1], 0);
    if (!external) return refuse("external ports", external.error().message);
    auto network = parse_network(words[2]);
    if (!network) return refuse("internal addresses", dotted_mask_hint(words[2]).value_or(network.error().message));
    auto internal = parse_port_range(words[3], 0);
    if (!internal) return refuse("internal ports", internal.error().message);
    permission.external_ports = *external;
    permission.internal_network = *network;
    permission.internal_ports = *internal;
    return permission;
}

std::string permission_text(const UpnpPermission& permission) {
    return std::string(permission.allow ? "allow " : "deny ") + permission.external_ports.to_string() + ' ' +
           permission.internal_network.to_string() + ' ' + permission.internal_ports.to_string();
}

std::string show_permissions(const std::vector<UpnpPermission>& permissions) {
    std::string text = "[";
    for (std::size_t i = 0; i < permissions.size(); ++i) text += (i == 0 ? "" : ", ") + permission_text(permissions[i]);
    return text + "]";
}

Expected<void> append_permission(const N& node, std::vector<UpnpPermission>& permissions) {
    auto parsed = parse_permission(node.Scalar());
    if (!parsed) return unexpected(parsed.error());
    permissions.push_back(*parsed);
    return {};
}

}  // namespace

std::vector<SchemaKey> upnp_schema_keys() {
    return {
        {"upnp.enabled", ValueType::boolean, false,
         "Serve the UPnP Internet Gateway Device on the LAN side, so LAN hosts can ask for port mappings.",
         [](const N& v, C& c) { return store_boolean(v, c.upnp.enabled); },
         [](const C& c) { return show_bool(c.upnp.enabled); }},
        {"upnp.igd_version", ValueType::igd_version, false,
         "InternetGatewayDevice version announced; 1 by default because Windows' own UPnP client only recognises "
         "IGD:1.",
         [](const N& v, C& c) { return store_igd_version(v, c.upnp.igd_version); },
         [](const C& c) { return std::to_string(c.upnp.igd_version); }},
        {"upnp.http_port", ValueType::integer, false,
         "TCP port, 49152 to 65535, of the description, control and eventing server, on the LAN address only "
         "(pupnp 1.8 listens on nothing lower): gatewayd's HTTP front end; pupnp itself takes the next port "
         "(the one below for 65535), reachable from the loopback interface only.",
         [](const N& v, C& c) { return store_integer(v, 49152, 65535, c.upnp.http_port); },
         [](const C& c) { return std::to_string(c.upnp.http_port); }},
        {"upnp.secure_mode", ValueType::boolean, false,
         "`true`: a LAN host may only map ports to its own address; `false` lets it map them to any LAN host.",
         [](const N& v, C& c) { return store_boolean(v, c.upnp.secure_mode); },
         [](const C& c) { return show_bool(c.upnp.secure_mode); }},
        {"upnp.max_lease", ValueType::seconds, false,
         "Longest lease a mapping is granted, 1 to " + std::to_string(max_lease_limit) +
             " s (one week, the most WANIPConnection:2 allows).",
         [](const N& v, C& c) { return store_integer(v, 1, max_lease_limit, c.upnp.max_lease_seconds); },
         [](const C& c) { return std::to_string(c.upnp.max_lease_seconds); }},
        {"upnp.per_client_limit", ValueType::integer, false,
         "Most mappings one LAN address may hold, 1 to 65535; not more than upnp.max_mappings.",
         [](const N& v, C& c) { return store_integer(v, 1, 65535, c.upnp.per_client_limit); },
         [](const C& c) { return std::to_string(c.upnp.per_client_limit); }},
        {"upnp.max_mappings", ValueType::integer, false, "Most UPnP mappings in all, 1 to 65535.",
         [](const N& v, C& c) { return store_integer(v, 1, 65535, c.upnp.max_mappings); },
         [](const C& c) { return std::to_string(c.upnp.max_mappings); }},
        {"upnp.lease_file", ValueType::absolute_path, false,
         "Where mappings are kept across restarts: an absolute path to a file, not a directory.",
         [](const N& v, C& c) { return store_lease_file(v, c.upnp.lease_file); },
         [](const C& c) { return c.upnp.lease_file; }},
        {"upnp.lease_sync", ValueType::lease_sync, false,
         "When a lease file change is flushed to disk: `change` before the client gets its answer, `second` within "
         "a second (a killed or crashed daemon loses nothing either way; a power cut may lose the last second).",
         [](const N& v, C& c) { return store_choice(v, lease_sync_names, c.upnp.lease_sync); },
         [](const C& c) { return std::string(enum_name(lease_sync_names, c.upnp.lease_sync)); }},
        {"upnp.friendly_name", ValueType::text, false,
         "Name control points show for the gateway (UDA friendlyName): 1 to " + std::to_string(friendly_name_max) +
             " printable characters, UTF-8.",
         [](const N& v, C& c) { return store_friendly_name(v, c.upnp.friendly_name); },
         [](const C& c) { return c.upnp.friendly_name; }},
        {"upnp.advertisement_seconds", ValueType::seconds, false,
         "SSDP max-age: how long control points trust an advertisement, 60 to 86400 s; UDA 1.1 1.2.2 recommends at "
         "least 1800. The gateway announces again at a random time between a quarter and a half of it.",
         [](const N& v, C& c) { return store_integer(v, 60, 86400, c.upnp.advertisement_seconds); },
         [](const C& c) { return std::to_string(c.upnp.advertisement_seconds); }},
        {"upnp.permissions", ValueType::upnp_permissions, false,
         "Rules `allow|deny EXT-PORTS INT-ADDR[/MASKBITS] INT-PORTS` (miniupnpd's), first match decides, no match "
         "denies; empty = allow 1024-65535 to ports 1024-65535 of each LAN network, deny the rest.",
         [](const N& v, C& c) { return append_permission(v, c.upnp.permissions); },
         [](const C& c) { return show_permissions(c.upnp.permissions); }},
        // IPv6 pinholes: WANIPv6FirewallControl:1, announced with igd_version 2 only.
        {"upnp.pinholes.enabled", ValueType::boolean, false,
         "With igd_version 2, LAN hosts may open IPv6 firewall pinholes (WANIPv6FirewallControl FirewallEnabled); "
         "`false` answers every pinhole action 702 FirewallDisabled.",
         [](const N& v, C& c) { return store_boolean(v, c.upnp.pinholes.enabled); },
         [](const C& c) { return show_bool(c.upnp.pinholes.enabled); }},
        {"upnp.pinholes.allow_inbound", ValueType::boolean, false,
         "InboundPinholeAllowed: `false` refuses new and renewed pinholes with 703 (existing ones run out).",
         [](const N& v, C& c) { return store_boolean(v, c.upnp.pinholes.allow_inbound); },
         [](const C& c) { return show_bool(c.upnp.pinholes.allow_inbound); }},
        {"upnp.pinholes.per_client_limit", ValueType::integer, false,
         "Most pinholes one LAN host may hold, 1 to 32767; not more than upnp.pinholes.max_pinholes (701 past it).",
         [](const N& v, C& c) { return store_integer(v, 1, 32767, c.upnp.pinholes.per_client_limit); },
         [](const C& c) { return std::to_string(c.upnp.pinholes.per_client_limit); }},
        {"upnp.pinholes.max_pinholes", ValueType::integer, false, "Most pinholes in all, 1 to 32767 (701 past it).",
         [](const N& v, C& c) { return store_integer(v, 1, 32767, c.upnp.pinholes.max_pinholes); },
         [](const C& c) { return std::to_string(c.upnp.pinholes.max_pinholes); }},
        {"upnp.pinholes.allow_internal_port_wildcard", ValueType::boolean, false,
         "Let InternalPort 0 open every port of the host (never in secure mode); `false` answers 706.",
         [](const N& v, C& c) { return store_boolean(v, c.upnp.pinholes.allow_internal_port_wildcard); },
         [](const C& c) { return show_bool(c.upnp.pinholes.allow_internal_port_wildcard); }},
        {"upnp.pinholes.allow_protocol_wildcard", ValueType::boolean, false,
         "Let Protocol 65535 open every protocol; `false` answers 707.",
         [](const N& v, C& c) { return store_boolean(v, c.upnp.pinholes.allow_protocol_wildcard); },
         [](const C& c) { return show_bool(c.upnp.pinholes.allow_protocol_wildcard); }},
    };
}

// A per-client limit above the total would never apply, and one LAN host could take
// every mapping, which is what the limit is there to prevent.
void check_upnp_cross_key_rules(const GatewayConfig& config, std::vector<CrossKeyError>& errors) {
    const IgdConfig& upnp = config.upnp;
    if (upnp.per_client_limit > upnp.max_mappings) {
        errors.push_back({"upnp.per_client_limit",
                          std::to_string(upnp.per_client_limit) + " is more than upnp.max_mappings (" +
                              std::to_string(upnp.max_mappings) + "); lower it to at most " +
                              std::to_string(upnp.max_mappings) + " or raise upnp.max_mappings",
                          {"upnp.max_mappings"}});
    }
    if (upnp.pinholes.per_client_limit > upnp.pinholes.max_pinholes) {
        errors.push_back({"upnp.pinholes.per_client_limit",
                          std::to_string(upnp.pinholes.per_client_limit) + " is more than upnp.pinholes.max_pinholes (" +
                              std::to_string(upnp.pinholes.max_pinholes) + "); lower it or raise upnp.pinholes.max_pinholes",
                          {"upnp.pinholes.max_pinholes"}});
    }
}

}  // namespace gw
