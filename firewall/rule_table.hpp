// The configured rule table, prepared for the packet path: given what the parser
// learned about a packet, the first rule that matches decides; when none does, the
// default policy of the packet's direction. Pure: no I/O, time comes in as `now`.
//
// Ownership: a RuleTable owns a copy of the rules it was built from, so the
// FirewallConfig may go away; RuleDecision::rule points into that copy and stays
// valid for the table's life. A table belongs to one worker (rate-limit buckets and
// counters are plain members); reload builds a new table beside the old and swaps.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "firewall/firewall_config.hpp"
#include "firewall/rate_limiter.hpp"
#include "nat/endpoint.hpp"
#include "nat/mapping.hpp"

namespace gw {

// What a rule can be matched against, filled in by the caller from the parsed packet.
// Inbound packets are described after translation (the LAN-side destination),
// outbound ones before it (the LAN-side source); see RuleDirection.
struct PacketFacts {
    RuleDirection direction = RuleDirection::inbound;
    std::uint8_t protocol = 0;  // IP protocol number (6 = TCP, 17 = UDP, 1 = ICMP, others too)
    Ipv4Address source, destination;
    // An IPv6 packet (no NAT: the addresses on the wire) matches only rules without
    // IPv4 networks; an IPv4 one only rules without IPv6 networks.
    bool ipv6 = false;
    Ipv6Address ipv6_source{}, ipv6_destination{};
    Port source_port, destination_port;
    bool has_ports = false;      // false for non-TCP/UDP and for non-first fragments
    std::uint8_t icmp_type = 0;
    bool has_icmp_type = false;  // an ICMP packet whose header was seen
    std::string_view arrival_interface;
    std::uint32_t length = 0;  // the whole packet's bytes (IP header on), for the byte counters
};

struct RuleDecision {
    RuleAction action = RuleAction::drop;
    const FirewallRule* rule = nullptr;  // the rule that matched; nullptr = the default policy
    bool log = false;                    // the rule asks for this packet to be logged
};

class RuleTable {
public:
    explicit RuleTable(const FirewallConfig& config);

    // First match wins. A rule whose rate limit is spent does not match: the packet
    // falls through to the later rules and then to the policy. A port condition needs
    // has_ports, an icmp_type condition has_icmp_type: a fragment without its header
    // matches no rule that looks at ports.
    RuleDecision decide(const PacketFacts& packet, Instant now) noexcept;

    struct RuleCounter {
        const FirewallRule* rule;     // valid for the table's life
        std::string_view name;        // rule->name
        std::uint64_t matched;        // decided a packet
        std::uint64_t bytes;          // of the packets it decided
        std::uint64_t rate_limited;   // matched all conditions but was over its limit
    };
    // In rule order.
    std::vector<RuleCounter> counters() const;
    // Packets no rule matched, decided by the policy of `direction`, and their bytes.
    std::uint64_t policy_decisions(RuleDirection direction) const noexcept;
    std::uint64_t policy_bytes(RuleDirection direction) const noexcept;
    DefaultPolicies policies() const noexcept { return policies_; }

    // Reload: a rule that is still there, unchanged (name and every condition and action;
    // its line may move), keeps its counters; a changed or new rule starts at zero. A
    // direction whose policy is unchanged keeps its policy counters.
    void keep_counters_of(const RuleTable& previous) noexcept;

private:
    struct Entry {
        FirewallRule rule;
        std::optional<std::uint8_t> protocol;  // IP protocol number; nullopt = any
        std::optional<RateLimiter> limiter;
        std::uint64_t matched = 0;
        std::uint64_t bytes = 0;
        std::uint64_t rate_limited = 0;
    };

    static bool matches(const Entry& entry, const PacketFacts& packet) noexcept;
    RuleAction policy_for(RuleDirection direction) const noexcept;

    std::vector<Entry> entries_;                             // in rule order
    std::array<std::vector<std::uint32_t>, 3> by_direction_; // entry indexes, in order
    DefaultPolicies policies_;
    std::array<std::uint64_t, 3> policy_decisions_{};
    std::array<std::uint64_t, 3> policy_bytes_{};
};

}  // namespace gw
