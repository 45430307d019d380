#include "config/config_schema.hpp"

#include <charconv>
#include <cstdint>
#include <iterator>
#include <limits>

namespace gw {
namespace {

// Either a value or why there is none.
template <class T>
struct Parsed {
    std::optional<T> value;
    std::string error;
};

std::string quoted(std::string_view text) {
    return "'" + std::string(text) + "'";
}

// A plain decimal integer. Quoted strings, booleans, floats and hex are refused so that
// `udp: "300"`, `udp: yes` or `udp: 1e3` cannot silently mean something else.
Parsed<std::int64_t> read_integer(const YAML::Node& node) {
    const std::string& text = node.Scalar();
    // yaml-cpp tags every quoted scalar "!", every plain one "?", and keeps explicit tags.
    if (node.Tag() == "!") return {std::nullopt, "expected an integer, got the quoted string \"" + text + "\""};
    if (node.Tag() != "?" && node.Tag() != "tag:yaml.org,2002:int") {
        return {std::nullopt, "expected an integer, got a value tagged " + node.Tag()};
    }
    bool flag = false;
    if (YAML::convert<bool>::decode(node, flag)) return {std::nullopt, "expected an integer, got the boolean " + quoted(text)};
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range) return {std::nullopt, quoted(text) + " is too large"};
    if (ec != std::errc() || end != text.data() + text.size()) return {std::nullopt, "expected an integer, got " + quoted(text)};
    return {value, {}};
}

template <class Field>
ValueError store_integer(const YAML::Node& node, std::int64_t min, std::int64_t max, Field& field) {
    auto parsed = read_integer(node);
    if (!parsed.value) return parsed.error;
    if (*parsed.value < min || *parsed.value > max) {
        return "expected an integer from " + std::to_string(min) + " to " + std::to_string(max) + ", got " +
               std::to_string(*parsed.value);
    }
    field = Field(*parsed.value);
    return std::nullopt;
}

// The names Linux accepts, per dev_valid_name() in net/core/dev.c: 1..IFNAMSIZ-1 bytes,
// not "." or "..", and no '/', ':' (alias syntax) or whitespace.
ValueError store_interface_name(const YAML::Node& node, std::string& field) {
    const std::string& name = node.Scalar();
    if (name.empty()) return "an interface name cannot be empty";
    if (name.size() > 15) {
        return quoted(name) + " has " + std::to_string(name.size()) +
               " characters; Linux interface names have at most 15";
    }
    if (name == "." || name == "..") return quoted(name) + " is not a valid interface name";
    for (char c : name) {
        if (c == '/' || c == ':' || c == ' ' || (c >= '\t' && c <= '\r')) {
            return quoted(name) + " contains a character Linux refuses in interface names ('/', ':' or whitespace)";
        }
    }
    field = name;
    return std::nullopt;
}

// Why `address` cannot be the source of translated packets, or nullopt when it can.
std::optional<std::string_view> unusable_external_address(Ipv4Address address) {
    std::uint32_t a = address.host_order();
    if (a >> 24 == 0) return "it is in 0.0.0.0/8, \"this network\" (RFC 1122 3.2.1.3)";
    if (a >> 24 == 127) return "it is a loopback address";
    if (a >> 28 == 0xe) return "it is a multicast address";
    if (a == 0xffffffff) return "it is the limited broadcast address";
    return std::nullopt;
}

ValueError store_wan_address(const YAML::Node& node, GatewayConfig& config) {
    const std::string& text = node.Scalar();
    if (text == "auto") {
        config.wan_address.reset();
        return std::nullopt;
    }
    auto address = Ipv4Address::parse(text);
    if (!address) return "expected \"auto\" or an IPv4 address such as 203.0.113.7, got " + quoted(text);
    if (auto why = unusable_external_address(*address)) {
        return quoted(text) + " cannot be the NAT's external address: " + std::string(*why);
    }
    config.wan_address = address;
    return std::nullopt;
}

ValueError store_port_range(const YAML::Node& node, GatewayConfig& config) {
    const std::string& text = node.Scalar();
    auto range = PortRange::parse(text);
    if (!range) {
        return "expected a port range \"first-last\" with 1 <= first <= last <= 65535, or a single port, got " +
               quoted(text);
    }
    if (range->first == 0) return "port 0 cannot be allocated; the range must start at 1 or above";
    config.port_range = *range;
    return std::nullopt;
}

// Each idle timeout with the RFC requirement that sets its floor (the numbers live in NatTimeouts).
struct TimeoutRule {
    std::string_view key;
    std::string_view what;
    std::uint32_t minimum;
    std::string_view rfc;
    std::uint32_t NatTimeouts::*field;
};

constexpr TimeoutRule timeout_rules[] = {
    {"udp", "a UDP mapping", NatTimeouts::udp_minimum, "RFC 4787 REQ-5", &NatTimeouts::udp},
    {"tcp_established", "an established TCP connection", NatTimeouts::tcp_established_minimum, "RFC 5382 REQ-5",
     &NatTimeouts::tcp_established},
    {"tcp_transitory", "a TCP connection opening or closing", NatTimeouts::tcp_transitory_minimum, "RFC 5382 REQ-5",
     &NatTimeouts::tcp_transitory},
    {"icmp", "an ICMP query mapping", NatTimeouts::icmp_minimum, "RFC 5508 REQ-2", &NatTimeouts::icmp},
};

// Timeouts below the RFC minimums are refused rather than raised: a silent change
// would hide the operator's mistake, and a too-short timeout breaks applications.
ValueError store_timeout(const YAML::Node& node, const TimeoutRule& rule, NatTimeouts& timeouts) {
    auto parsed = read_integer(node);
    if (!parsed.value) return parsed.error;
    if (*parsed.value < std::int64_t(rule.minimum)) {
        return std::to_string(*parsed.value) + " is below the " + std::to_string(rule.minimum) + " s minimum of " +
               std::string(rule.rfc);
    }
    if (*parsed.value > std::numeric_limits<std::uint32_t>::max()) {
        return std::to_string(*parsed.value) + " is above the 4294967295 s maximum";
    }
    timeouts.*rule.field = std::uint32_t(*parsed.value);
    return std::nullopt;
}

template <std::size_t I>
SchemaKey timeout_key() {
    const TimeoutRule& rule = timeout_rules[I];
    return {"nat.timeouts." + std::string(rule.key), ValueType::seconds, false,
            "Idle timeout of " + std::string(rule.what) + ", in seconds; at least " + std::to_string(rule.minimum) +
                " (" + std::string(rule.rfc) + ").",
            [](const YAML::Node& v, GatewayConfig& c) { return store_timeout(v, timeout_rules[I], c.timeouts); },
            [](const GatewayConfig& c) { return std::to_string(c.timeouts.*timeout_rules[I].field); }};
}

// An upper bound that keeps an extra digit from sizing the flow table in gigabytes.
constexpr std::int64_t max_mappings_limit = 16777216;

static_assert(std::size(timeout_rules) == 4, "build_schema() lists one timeout_key<I>() per rule");

std::vector<SchemaKey> build_schema() {
    using C = GatewayConfig;
    using N = YAML::Node;
    return {
        {"lan.interface", ValueType::interface_name, true,
         "Interface facing the private network; packets arriving here are translated outbound.",
         [](const N& v, C& c) { return store_interface_name(v, c.lan_interface); },
         [](const C& c) { return c.lan_interface; }},
        {"wan.interface", ValueType::interface_name, true,
         "Interface facing the Internet; must differ from lan.interface.",
         [](const N& v, C& c) { return store_interface_name(v, c.wan_interface); },
         [](const C& c) { return c.wan_interface; }},
        {"wan.address", ValueType::ipv4_or_auto, false,
         "External address translated packets leave with; `auto` reads it from wan.interface.",
         store_wan_address,
         [](const C& c) { return c.wan_address ? c.wan_address->to_string() : std::string("auto"); }},
        {"nat.port_range", ValueType::port_range, false,
         "External ports (and ICMP identifiers) the NAT may allocate, e.g. `1024-65535`.",
         store_port_range,
         [](const C& c) { return c.port_range.to_string(); }},
        timeout_key<0>(),
        timeout_key<1>(),
        timeout_key<2>(),
        timeout_key<3>(),
        {"nat.max_mappings", ValueType::integer, false,
         "Most concurrent mappings, 1 to " + std::to_string(max_mappings_limit) +
             "; when full, new flows are dropped and counted.",
         [](const N& v, C& c) { return store_integer(v, 1, max_mappings_limit, c.max_mappings); },
         [](const C& c) { return std::to_string(c.max_mappings); }},
        {"nfqueue.queue", ValueType::integer, false,
         "Netfilter queue number (0 to 65535) the iptables/nftables NFQUEUE rule sends packets to.",
         [](const N& v, C& c) { return store_integer(v, 0, 65535, c.queue_number); },
         [](const C& c) { return std::to_string(c.queue_number); }},
    };
}

}  // namespace

std::string_view value_type_name(ValueType type) {
    switch (type) {
        case ValueType::interface_name: return "interface name";
        case ValueType::ipv4_or_auto: return "IPv4 address or `auto`";
        case ValueType::port_range: return "port range";
        case ValueType::seconds: return "integer (seconds)";
        case ValueType::integer: return "integer";
    }
    return "value";
}

std::string_view value_type_article(ValueType type) {
    switch (type) {
        case ValueType::interface_name: return "an interface name";
        case ValueType::ipv4_or_auto: return "an IPv4 address or \"auto\"";
        case ValueType::port_range: return "a port range";
        case ValueType::seconds: return "a number of seconds";
        case ValueType::integer: return "an integer";
    }
    return "a value";
}

std::string SchemaKey::default_text() const {
    return required ? std::string("(required)") : show(GatewayConfig{});
}

std::span<const SchemaKey> config_schema() {
    static const std::vector<SchemaKey> schema = build_schema();
    return schema;
}

const SchemaKey* find_schema_key(std::string_view path) {
    for (const SchemaKey& key : config_schema()) {
        if (key.path == path) return &key;
    }
    return nullptr;
}

bool is_schema_section(std::string_view path) {
    for (const SchemaKey& key : config_schema()) {
        if (key.path.size() > path.size() && key.path.starts_with(path) && key.path[path.size()] == '.') return true;
    }
    return false;
}

std::vector<CrossKeyError> check_cross_key_rules(const GatewayConfig& config) {
    std::vector<CrossKeyError> errors;
    // Translating between an interface and itself would hairpin every packet.
    if (!config.lan_interface.empty() && config.lan_interface == config.wan_interface) {
        errors.push_back({"wan.interface", quoted(config.wan_interface) +
                                               " is also lan.interface; the WAN and LAN interfaces must differ"});
    }
    return errors;
}

}  // namespace gw
