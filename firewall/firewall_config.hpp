// What the firewall is configured with: the ordered rule table, default policies,
// the NAT filtering behaviour, static forwards and the DMZ host. Loaded and validated
// by config/ (every key with file:line:column errors); read by firewall/ and nat/.
// Connection timeouts are the NAT's (NatTimeouts): one flow record, one set of timeouts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nat/endpoint.hpp"

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
struct RateLimit {
    std::uint32_t per_second = 0;
    std::uint32_t burst = 0;
};

struct SourcePosition {
    int line = 0;  // 1-based, 0 = unknown
    int column = 0;
};

struct FirewallRule {
    std::string name;  // unique; names the rule in logs and counters
    RuleDirection direction = RuleDirection::inbound;
    std::optional<Protocol> protocol;             // nullopt = any
    std::vector<Ipv4Network> sources;             // empty = any
    std::vector<Ipv4Network> destinations;        // empty = any
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
    SourcePosition position;
};

struct DefaultPolicies {
    RuleAction inbound = RuleAction::drop;
    RuleAction outbound = RuleAction::accept;
    RuleAction input = RuleAction::drop;
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
};

}  // namespace gw
