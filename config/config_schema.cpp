#include "config/config_schema.hpp"

#include <cstdint>
#include <iterator>
#include <limits>

#include "config/firewall_schema.hpp"
#include "config/port_control_schema.hpp"
#include "config/upnp_schema.hpp"
#include "config/value_parsers.hpp"
#include "config/wan_schema.hpp"

namespace gw {
namespace {

Expected<void> store_interface_name(const YAML::Node& node, std::string& field) {
    auto name = read_interface_name(node);
    if (!name) return unexpected(name.error());
    field = *name;
    return {};
}

// metrics.listen: where GET /metrics is served, or none.
Expected<void> store_metrics_listen(const YAML::Node& node, GatewayConfig& config) {
    const std::string& text = node.Scalar();
    if (text.empty() || text == "none") {
        config.metrics_listen.reset();
        return {};
    }
    auto colon = text.rfind(':');
    auto address = colon == std::string::npos ? std::nullopt : Ipv4Address::parse(text.substr(0, colon));
    auto port = colon == std::string::npos ? std::nullopt : PortRange::parse(text.substr(colon + 1));
    if (!address || !port || port->first != port->last || port->first == 0)
        return refused("expected an IPv4 address:port with a port of 1 to 65535 (127.0.0.1:9477), or none, got " +
                       quoted(text));
    config.metrics_listen = Endpoint{*address, Port{std::uint16_t(port->first)}};
    return {};
}

Expected<void> store_port_range(const YAML::Node& node, GatewayConfig& config) {
    const std::string& text = node.Scalar();
    auto range = PortRange::parse(text);
    if (!range) {
        return refused("expected a port range \"first-last\" with 1 <= first <= last <= 65535, or a single port, got " +
               quoted(text));
    }
    if (range->first == 0) return refused("port 0 cannot be allocated; the range must start at 1 or above");
    config.port_range = *range;
    return {};
}

// "600-1023", or "none" (the default): RFC 4787 REQ-3's range for sources in 0-1023.
Expected<void> store_low_port_range(const YAML::Node& node, GatewayConfig& config) {
    const std::string& text = node.Scalar();
    if (text.empty() || text == "none") {
        config.low_port_range.reset();
        return {};
    }
    auto range = PortRange::parse(text);
    if (!range || range->first == 0 || range->last > 1023)
        return refused("expected a port range inside 1-1023 (600-1023), or none, got " + quoted(text));
    config.low_port_range = *range;
    return {};
}

// Each idle timeout with the RFC requirement that sets its floor (the numbers live in NatTimeouts).
struct TimeoutRule {
    std::string_view key;
    std::string_view what;
    std::uint32_t minimum;
    std::string_view rfc;
    std::uint32_t NatTimeouts::*field;
    // Set when the RFC sets no floor and the minimum is ours: why it is where it is.
    std::string_view our_floor = {};
    // The key named explicitly, so that nat.timeouts.tcp_transitory does not override it.
    bool GatewayConfig::TimeoutsGiven::*given = nullptr;
};

constexpr TimeoutRule timeout_rules[] = {
    {"udp", "a UDP mapping", NatTimeouts::udp_minimum, "RFC 4787 REQ-5", &NatTimeouts::udp},
    {"tcp_established", "an established TCP connection", NatTimeouts::tcp_established_minimum, "RFC 5382 REQ-5",
     &NatTimeouts::tcp_established},
    {"tcp_opening", "a TCP connection opening (a SYN seen, the handshake not complete)",
     NatTimeouts::tcp_opening_minimum, "RFC 7857 §2.1", &NatTimeouts::tcp_opening,
     "RFC 7857 §2.1 lets it go below RFC 5382 REQ-5's 240 s; 120 s outlasts the gaps between a SYN's "
     "retransmissions",
     &GatewayConfig::TimeoutsGiven::tcp_opening},
    {"tcp_closing", "a TCP connection closing (a FIN or RST seen, TIME_WAIT)", NatTimeouts::tcp_closing_minimum,
     "RFC 5382 REQ-5", &NatTimeouts::tcp_closing, {}, &GatewayConfig::TimeoutsGiven::tcp_closing},
    {"icmp", "an ICMP query mapping", NatTimeouts::icmp_minimum, "RFC 5508 REQ-2", &NatTimeouts::icmp},
};
constexpr const TimeoutRule& tcp_opening_rule = timeout_rules[2];
constexpr const TimeoutRule& tcp_closing_rule = timeout_rules[3];

// Timeouts below the minimums are refused rather than raised: a silent change
// would hide the operator's mistake, and a too-short timeout breaks applications.
Expected<std::uint32_t> read_timeout(const YAML::Node& node, const TimeoutRule& rule) {
    auto parsed = read_integer(node);
    if (!parsed) return unexpected(parsed.error());
    if (*parsed < std::int64_t(rule.minimum)) {
        std::string floor = std::to_string(*parsed) + " is below the " + std::to_string(rule.minimum) + " s minimum";
        return refused(rule.our_floor.empty() ? floor + " of " + std::string(rule.rfc)
                                              : floor + " (" + std::string(rule.our_floor) + ")");
    }
    if (*parsed > std::numeric_limits<std::uint32_t>::max()) {
        return refused(std::to_string(*parsed) + " is above the 4294967295 s maximum");
    }
    return std::uint32_t(*parsed);
}

Expected<void> store_timeout(const YAML::Node& node, const TimeoutRule& rule, GatewayConfig& config) {
    auto value = read_timeout(node, rule);
    if (!value) return unexpected(value.error());
    config.timeouts.*rule.field = *value;
    if (rule.given) config.timeouts_given.*rule.given = true;
    return {};
}

template <std::size_t I>
SchemaKey timeout_key() {
    const TimeoutRule& rule = timeout_rules[I];
    std::string floor = rule.our_floor.empty() ? std::string(rule.rfc) : std::string(rule.our_floor);
    return {"nat.timeouts." + std::string(rule.key), ValueType::seconds, false,
            "Idle timeout of " + std::string(rule.what) + ", in seconds; at least " + std::to_string(rule.minimum) +
                " (" + floor + ").",
            [](const YAML::Node& v, GatewayConfig& c) { return store_timeout(v, timeout_rules[I], c); },
            [](const GatewayConfig& c) { return std::to_string(c.timeouts.*timeout_rules[I].field); }};
}

// The one key of the versions before RFC 7857 §2.1's split, kept for the files that
// name it: it sets tcp_opening and tcp_closing, each unless the file names that key
// itself (in either order). Its value must suit both, so tcp_closing's floor is its floor.
// It shows as not set: its effect is in the two keys' values (and a reload's change list).
SchemaKey tcp_transitory_key() {
    return {"nat.timeouts.tcp_transitory", ValueType::seconds, false,
            "Sets both nat.timeouts.tcp_opening and nat.timeouts.tcp_closing (the one key of older versions); at "
            "least " +
                std::to_string(tcp_closing_rule.minimum) + " (" + std::string(tcp_closing_rule.rfc) +
                "). Either key named in the same file wins over it, whatever the order.",
            [](const YAML::Node& v, GatewayConfig& c) -> Expected<void> {
                auto value = read_timeout(v, tcp_closing_rule);
                if (!value) return unexpected(value.error());
                for (const TimeoutRule* rule : {&tcp_opening_rule, &tcp_closing_rule})
                    if (!(c.timeouts_given.*rule->given)) c.timeouts.*rule->field = *value;
                return {};
            },
            [](const GatewayConfig&) { return std::string(); }};
}

// An upper bound that keeps an extra digit from sizing the flow table in gigabytes.
constexpr std::int64_t max_mappings_limit = 16777216;
// One queue and thread each; past a few the one engine lock is what they wait for.
constexpr std::int64_t max_queue_workers = 16;

static_assert(std::size(timeout_rules) == 5, "build_schema() lists one timeout_key<I>() per rule");

std::vector<SchemaKey> build_schema() {
    using C = GatewayConfig;
    using N = YAML::Node;
    std::vector<SchemaKey> schema = {
        {"lan.interface", ValueType::interface_name, true,
         "Interface facing the private network; packets arriving here are translated outbound.",
         [](const N& v, C& c) { return store_interface_name(v, c.lan_interface); },
         [](const C& c) { return c.lan_interface; }},
        lan_networks_key(),
        lan_ipv6_networks_key(),
        {"wan.interface", ValueType::interface_name, true,
         "Interface facing the Internet; must differ from lan.interface.",
         [](const N& v, C& c) { return store_interface_name(v, c.wan_interface); },
         [](const C& c) { return c.wan_interface; }},
    };
    std::vector<SchemaKey> wan = wan_schema_keys();
    schema.insert(schema.end(), wan.begin(), wan.end());
    std::vector<SchemaKey> nat_and_queues = {
        {"nat.port_range", ValueType::port_range, false,
         "External ports (and ICMP identifiers) the NAT may allocate, e.g. `1024-65535`.",
         store_port_range,
         [](const C& c) { return c.port_range.to_string(); }},
        {"nat.low_port_range", ValueType::port_range, false,
         "External ports, inside 1-1023, for TCP and UDP sources below 1024 (RFC 4787 REQ-3), e.g. `600-1023`: "
         "the source port is kept when free inside it, else one is drawn from it; when it is full the mapping is "
         "refused (ports_exhausted). `none` = such sources get ports of nat.port_range like any other. Off by "
         "default: the gateway's own services listen on low ports.",
         store_low_port_range,
         [](const C& c) { return c.low_port_range ? c.low_port_range->to_string() : std::string("none"); }},
        timeout_key<0>(),
        timeout_key<1>(),
        timeout_key<2>(),
        timeout_key<3>(),
        tcp_transitory_key(),
        timeout_key<4>(),
        {"nat.max_mappings", ValueType::integer, false,
         "Most concurrent mappings and flows, 1 to " + std::to_string(max_mappings_limit) +
             "; when full, a new LAN flow evicts one (half-open WAN-started flows first, then the oldest flow of "
             "the host that started the most; counted as flows_evicted), and a new WAN-started flow only another "
             "half-open one; what finds no room is dropped and counted.",
         [](const N& v, C& c) { return store_integer(v, 1, max_mappings_limit, c.max_mappings); },
         [](const C& c) { return std::to_string(c.max_mappings); }},
        {"nat.max_flows_per_host", ValueType::integer, false,
         "Most flows one LAN host may start at once, 1 to " + std::to_string(max_mappings_limit) +
             " (in effect at most nat.max_mappings); at it, a new flow takes the place of the host's own "
             "half-open or closing TCP flow nearest its idle timeout, else it is dropped and counted (host_flow_limit), so one "
             "host cannot fill the table for the others. IPv6 too: each LAN address, in firewall.ipv6.max_flows.",
         [](const N& v, C& c) { return store_integer(v, 1, max_mappings_limit, c.limits.flows_per_host); },
         [](const C& c) { return std::to_string(c.limits.flows_per_host); }},
        {"nat.max_ports_per_host", ValueType::integer, false,
         "Most external ports (NAT mappings) one LAN host may hold, 1 to 65535; beyond it new mappings "
         "are refused and counted (host_port_limit), so one host cannot take the whole port range.",
         [](const N& v, C& c) { return store_integer(v, 1, 65535, c.limits.ports_per_host); },
         [](const C& c) { return std::to_string(c.limits.ports_per_host); }},
        {"nat.unreachable_when_full", ValueType::boolean, false,
         "When no mapping can be made for a LAN host's packet (host_port_limit, ports_exhausted, "
         "mapping_table_full), answer the host with an ICMP destination unreachable, administratively prohibited "
         "(RFC 5508 REQ-8), at most 10 a second for the whole gateway; `false` drops such packets silently.",
         [](const N& v, C& c) { return store_boolean(v, c.unreachable_when_full); },
         [](const C& c) { return show_bool(c.unreachable_when_full); }},
        {"nat.max_embryonic_inbound", ValueType::integer, false,
         "Most flows started from the WAN (forwards, DMZ, mappings) that may wait unanswered or with "
         "TCP not established, 1 to " + std::to_string(max_mappings_limit) +
             "; beyond it new ones are dropped and counted (embryonic_limit). When the table is full "
             "these are evicted first, so a spoofed-SYN flood cannot lock the LAN out. IPv6 too: flows through "
             "pinholes and inbound rules, and exchanges the input rules admit to the gateway itself (beyond it "
             "delivered untracked).",
         [](const N& v, C& c) { return store_integer(v, 1, max_mappings_limit, c.limits.embryonic_inbound); },
         [](const C& c) { return std::to_string(c.limits.embryonic_inbound); }},
        {"nfqueue.queue", ValueType::integer, false,
         "Netfilter queue number (0 to 65535) the NFQUEUE rules send packets to; with several workers, the "
         "first of their consecutive queues.",
         [](const N& v, C& c) { return store_integer(v, 0, 65535, c.queue_number); },
         [](const C& c) { return std::to_string(c.queue_number); }},
        {"nfqueue.workers", ValueType::integer, false,
         "Packet threads, 1 to " + std::to_string(max_queue_workers) +
             ", one queue each (`--queue-balance`); they receive and send in parallel and take turns at the "
             "one flow table. More than the CPUs that carry traffic only adds switching. Restart to change.",
         [](const N& v, C& c) { return store_integer(v, 1, max_queue_workers, c.queue_workers); },
         [](const C& c) { return std::to_string(c.queue_workers); }},
        {"nfqueue.socket_buffer_bytes", ValueType::integer, false,
         "Receive buffer of each queue's netlink socket (64 KiB to 1 GiB): what absorbs a burst while a worker "
         "is busy. When it overflows the kernel drops (counted as `enobufs`). Restart to change.",
         [](const N& v, C& c) { return store_integer(v, 64 << 10, 1 << 30, c.queue_socket_buffer_bytes); },
         [](const C& c) { return std::to_string(c.queue_socket_buffer_bytes); }},
        {"nfqueue.worker_priority", ValueType::integer, false,
         "Real-time priority of the packet threads: 0 = the normal scheduler; 1 to 99 = `SCHED_FIFO` at that "
         "priority, so a queued packet's worker runs as soon as it is woken instead of waiting its turn behind "
         "other programs (with the CPUs busy, the p99 of a pass through the gateway measured 0.3-12 ms -> 0.03-0.13 "
         "ms). A flood then keeps a worker's core for the packets (the kernel leaves other programs 5 % "
         "of it, `kernel.sched_rt_runtime_us`). Needs `CAP_SYS_NICE`; the shipped systemd unit forbids real-time scheduling, so add a drop-in with "
         "`RestrictRealtime=no` and `CAP_SYS_NICE` in `CapabilityBoundingSet`. Start fails without them. "
         "Restart to change.",
         [](const N& v, C& c) { return store_integer(v, 0, 99, c.queue_worker_priority); },
         [](const C& c) { return std::to_string(c.queue_worker_priority); }},
        {"metrics.listen", ValueType::listen_endpoint, false,
         "Serve the `gatewayctl metrics` text (Prometheus format) over HTTP at GET /metrics on this address:port, "
         "for scraping; `none` = no endpoint. Use a loopback address (127.0.0.1:9477) unless a scraper elsewhere "
         "needs it: the metrics name hosts and rules. Restart to change.",
         store_metrics_listen,
         [](const C& c) { return c.metrics_listen ? to_string(*c.metrics_listen) : std::string("none"); }},
    };
    schema.insert(schema.end(), nat_and_queues.begin(), nat_and_queues.end());
    std::vector<SchemaKey> firewall = firewall_schema_keys();
    schema.insert(schema.end(), firewall.begin(), firewall.end());
    std::vector<SchemaKey> upnp = upnp_schema_keys();
    schema.insert(schema.end(), upnp.begin(), upnp.end());
    std::vector<SchemaKey> port_control = port_control_schema_keys();
    schema.insert(schema.end(), port_control.begin(), port_control.end());
    return schema;
}

// "`a`, `b` or `c`" for the docs table.
template <class Enum, std::size_t N>
std::string docs_choices(const EnumName<Enum> (&names)[N]) {
    std::string text;
    for (std::size_t i = 0; i < N; ++i) {
        text += (i == 0 ? "" : i + 1 == N ? " or " : ", ") + ("`" + std::string(names[i].name) + "`");
    }
    return text;
}

}  // namespace

Shape value_shape(ValueType type) {
    switch (type) {
        case ValueType::networks:
        case ValueType::ipv6_networks:
        case ValueType::rule_networks:
        case ValueType::ports:
        case ValueType::upnp_permissions: return Shape::list;
        case ValueType::rules:
        case ValueType::forwards: return Shape::map_list;
        default: return Shape::scalar;
    }
}

std::string value_type_name(ValueType type) {
    switch (type) {
        case ValueType::interface_name: return "interface name";
        case ValueType::ipv4_or_auto: return "IPv4 address or `auto`";
        case ValueType::port_range: return "port range";
        case ValueType::seconds: return "integer (seconds)";
        case ValueType::integer: return "integer";
        case ValueType::boolean: return "`true` or `false`";
        case ValueType::name: return "name";
        case ValueType::ipv4_address: return "IPv4 address";
        case ValueType::endpoint: return "address or address:port";
        case ValueType::networks: return "list of IPv4 networks";
        case ValueType::ipv6_networks: return "list of IPv6 networks";
        case ValueType::rule_networks: return "list of IPv4 or IPv6 networks";
        case ValueType::echo_request: return docs_choices(inbound_echo_request_names);
        case ValueType::ports: return "list of ports or port ranges";
        case ValueType::icmp_type: return "ICMP type (0-255 or name)";
        case ValueType::rate: return "rate (`N/s` or `N/min`, optional `burst M`)";
        case ValueType::filtering: return docs_choices(filtering_behaviour_names);
        case ValueType::action: return docs_choices(rule_action_names);
        case ValueType::direction: return docs_choices(rule_direction_names);
        case ValueType::rule_protocol: return docs_choices(rule_protocol_names);
        case ValueType::forward_protocol: return docs_choices(forward_protocol_names);
        case ValueType::rules: return "list of rules";
        case ValueType::forwards: return "list of forwards";
        case ValueType::igd_version: return "`1` or `2`";
        case ValueType::absolute_path: return "absolute file path";
        case ValueType::text: return "text";
        case ValueType::upnp_permissions: return "list of permission rules";
        case ValueType::lease_sync: return docs_choices(lease_sync_names);
        case ValueType::host_port: return "host or host:port";
        case ValueType::listen_endpoint: return "IPv4 address:port or `none`";
        case ValueType::cascade_mappings: return docs_choices(cascade_mappings_names);
        case ValueType::upstream_mappings: return docs_choices(upstream_mappings_names);
        case ValueType::upstream_failure: return docs_choices(upstream_failure_names);
    }
    return "value";
}

std::string value_type_article(ValueType type) {
    switch (type) {
        case ValueType::interface_name: return "an interface name";
        case ValueType::ipv4_or_auto: return "an IPv4 address or \"auto\"";
        case ValueType::port_range: return "a port range";
        case ValueType::seconds: return "a number of seconds";
        case ValueType::integer: return "an integer";
        case ValueType::boolean: return "true or false";
        case ValueType::name: return "a name";
        case ValueType::ipv4_address: return "an IPv4 address";
        case ValueType::endpoint: return "an address or address:port";
        case ValueType::networks: return "an IPv4 network or a list of them";
        case ValueType::ipv6_networks: return "an IPv6 network or a list of them";
        case ValueType::rule_networks: return "an IPv4 or IPv6 network or a list of them";
        case ValueType::echo_request: return "one of " + choices_text(inbound_echo_request_names);
        case ValueType::ports: return "a port, a port range or a list of them";
        case ValueType::icmp_type: return "an ICMP type";
        case ValueType::rate: return "a rate such as 10/s";
        case ValueType::filtering: return "one of " + choices_text(filtering_behaviour_names);
        case ValueType::action: return "one of " + choices_text(rule_action_names);
        case ValueType::direction: return "one of " + choices_text(rule_direction_names);
        case ValueType::rule_protocol: return "one of " + choices_text(rule_protocol_names);
        case ValueType::forward_protocol: return "one of " + choices_text(forward_protocol_names);
        case ValueType::rules: return "a list of rules";
        case ValueType::forwards: return "a list of forwards";
        case ValueType::igd_version: return "1 or 2";
        case ValueType::absolute_path: return "an absolute file path";
        case ValueType::text: return "a text";
        case ValueType::upnp_permissions: return "a permission rule or a list of them";
        case ValueType::lease_sync: return "one of " + choices_text(lease_sync_names);
        case ValueType::host_port: return "a host or host:port";
        case ValueType::listen_endpoint: return "an IPv4 address:port, or none";
        case ValueType::cascade_mappings: return "one of " + choices_text(cascade_mappings_names);
        case ValueType::upstream_mappings: return "one of " + choices_text(upstream_mappings_names);
        case ValueType::upstream_failure: return "one of " + choices_text(upstream_failure_names);
    }
    return "a value";
}

std::string SchemaKey::default_text() const {
    if (required) return "(required)";
    std::string shown = show(GatewayConfig{});
    return shown.empty() ? std::string("(none)") : shown;
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

std::string schema_path_of(std::string_view concrete_path) {
    std::string path;
    bool in_index = false;
    for (char c : concrete_path) {
        if (c == '[') in_index = true;
        if (c == ']') in_index = false;
        if (!in_index || c == '[') path += c;
    }
    return path;
}

void complete_dependent_defaults(GatewayConfig& config) {
    complete_firewall_defaults(config);
}

std::vector<CrossKeyError> check_cross_key_rules(const GatewayConfig& config) {
    std::vector<CrossKeyError> errors;
    // Translating between an interface and itself would hairpin every packet.
    if (!config.lan_interface.empty() && config.lan_interface == config.wan_interface) {
        errors.push_back({"wan.interface",
                          quoted(config.wan_interface) + " is also lan.interface; the WAN and LAN interfaces must differ",
                          {"lan.interface"}});
    }
    if (int(config.queue_number) + config.queue_workers - 1 > 65535) {
        errors.push_back({"nfqueue.workers",
                          std::to_string(config.queue_workers) + " workers from queue " +
                              std::to_string(config.queue_number) + " would need queues past 65535",
                          {"nfqueue.queue"}});
    }
    check_firewall_cross_key_rules(config, errors);
    check_upnp_cross_key_rules(config, errors);
    return errors;
}

}  // namespace gw
