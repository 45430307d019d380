// What the firewall is configured with: the ordered rule table, default policies,
// the NAT filtering behaviour, static forwards and the DMZ host. Loaded and validated
// by config/ (every key with file:line:column errors); read by firewall/ and nat/.
// Connection timeouts are the NAT's (NatTimeouts): one flow record, one set of timeouts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nat/endpoint.hpp"
#include "nat/ipv6_address.hpp"

namespace gw {

// inbound: WAN -> LAN (after translation: rules see the LAN-side destination);
// outbound: LAN -> WAN (before translation: rules see the LAN-side source);
// input: to the gateway's own addresses, from either side.
enum class RuleDirection : std::uint8_t { inbound, outbound, input };

enum class RuleAction : std::uint8_t {
    accept,
    drop,
    reject,  // TCP: RST; others: ICMP port (UDP) / administratively prohibited unreachable
};

// Token bucket: `per_second` packets a second on average, bursts of up to `burst`.
// "N/min" sets per_minute instead, since 1/min has no whole number of packets a second.
struct RateLimit {
    std::uint32_t per_second = 0;
    std::uint32_t burst = 0;
    std::uint32_t per_minute = 0;  // used when per_second is 0

    constexpr std::uint64_t packets_per_minute() const {
        return per_second != 0 ? std::uint64_t(per_second) * 60 : per_minute;
    }
    constexpr bool operator==(const RateLimit&) const = default;
};

struct SourcePosition {
    int line = 0;  // 1-based, 0 = unknown
    int column = 0;
};

struct FirewallRule {
    std::string name;  // unique; names the rule in logs and counters
    RuleDirection direction = RuleDirection::inbound;
    std::optional<Protocol> protocol;             // nullopt = any
    // A rule names addresses of one family or none: with IPv4 networks it never matches
    // an IPv6 packet, with IPv6 networks never an IPv4 one; with none it matches both.
    std::vector<Ipv4Network> sources;             // empty = any
    std::vector<Ipv4Network> destinations;        // empty = any
    std::vector<Ipv6Network> ipv6_sources;        // empty = any
    std::vector<Ipv6Network> ipv6_destinations;   // empty = any
    std::vector<PortRange> source_ports;          // empty = any; only with tcp/udp
    std::vector<PortRange> destination_ports;     // empty = any; only with tcp/udp
    std::optional<std::uint8_t> icmp_type;        // only with icmp
    std::optional<std::string> interface;         // arrival interface; nullopt = any
    RuleAction action = RuleAction::drop;
    bool log = false;
    std::optional<RateLimit> rate_limit;  // packets beyond the limit do not match this rule
    SourcePosition position;
};

// RFC 4787 REQ-8: which inbound packets an existing mapping lets through.
enum class FilteringBehaviour : std::uint8_t {
    endpoint_independent,         // anyone may reach the mapping
    address_dependent,            // only addresses the internal endpoint has sent to
    address_and_port_dependent,   // only the exact address:port sent to (default)
};

struct PortForward {
    std::string name;
    Protocol protocol = Protocol::tcp;           // tcp or udp
    PortRange external_ports;                    // on the WAN address
    Endpoint internal;                           // first port; a range maps one to one
    std::vector<Ipv4Network> allowed_sources;    // empty = any
    bool enabled = true;
    // Also carried through the NAT upstream (wan.upstream_mappings); the engine ignores it.
    bool upstream = false;
    SourcePosition position;
};

struct DefaultPolicies {
    RuleAction inbound = RuleAction::drop;
    RuleAction outbound = RuleAction::accept;
    RuleAction input = RuleAction::drop;
};

// What to do with an ICMPv6 echo request from the WAN to a LAN host (RFC 4890 §4.3.1
// lets a site choose): the inbound rules and policy like any new inbound packet, or
// always accept, or always drop.
enum class InboundEchoRequest : std::uint8_t { policy, accept, drop };

// IPv6 forwarding (issue 8): no NAT; stateful, default-deny inbound, pinholes.
struct Ipv6FirewallConfig {
    std::vector<Ipv6Network> lan_networks;  // lan.ipv6_networks; empty = IPv6 is not forwarded by us
    std::uint32_t max_flows = 65536;        // firewall.ipv6.max_flows
    InboundEchoRequest inbound_echo_request = InboundEchoRequest::policy;
    bool enabled() const { return !lan_networks.empty(); }
    bool operator==(const Ipv6FirewallConfig&) const = default;
};

struct FirewallConfig {
    std::vector<Ipv4Network> lan_networks;  // lan.networks; empty = the LAN interface's own subnet
    FilteringBehaviour filtering = FilteringBehaviour::address_and_port_dependent;
    DefaultPolicies policies;
    std::vector<FirewallRule> rules;        // first match wins
    std::vector<PortForward> forwards;
    std::optional<Ipv4Address> dmz_host;
    // Drop log: at most this many lines a second; the rest are counted and reported.
    std::uint32_t log_lines_per_second = 10;
    Ipv6FirewallConfig ipv6;
};

// The names the config file uses for each enum: the loader parses with these tables
// and logs, counters and the docs print with them, so a name is spelled once.
template <class Enum>
struct EnumName {
    Enum value;
    std::string_view name;
};

inline constexpr EnumName<RuleDirection> rule_direction_names[] = {
    {RuleDirection::inbound, "inbound"},
    {RuleDirection::outbound, "outbound"},
    {RuleDirection::input, "input"},
};

inline constexpr EnumName<RuleAction> rule_action_names[] = {
    {RuleAction::accept, "accept"},
    {RuleAction::drop, "drop"},
    {RuleAction::reject, "reject"},
};

inline constexpr EnumName<FilteringBehaviour> filtering_behaviour_names[] = {
    {FilteringBehaviour::endpoint_independent, "endpoint-independent"},
    {FilteringBehaviour::address_dependent, "address-dependent"},
    {FilteringBehaviour::address_and_port_dependent, "address-and-port-dependent"},
};

inline constexpr EnumName<InboundEchoRequest> inbound_echo_request_names[] = {
    {InboundEchoRequest::policy, "policy"},
    {InboundEchoRequest::accept, "accept"},
    {InboundEchoRequest::drop, "drop"},
};

template <class Enum, std::size_t N>
constexpr std::string_view enum_name(const EnumName<Enum> (&names)[N], Enum value) {
    for (const EnumName<Enum>& entry : names) {
        if (entry.value == value) return entry.name;
    }
    return "unknown";
}

constexpr std::string_view rule_direction_name(RuleDirection d) { return enum_name(rule_direction_names, d); }
constexpr std::string_view rule_action_name(RuleAction a) { return enum_name(rule_action_names, a); }
constexpr std::string_view filtering_behaviour_name(FilteringBehaviour f) {
    return enum_name(filtering_behaviour_names, f);
}

}  // namespace gw
