#include "firewall/rule_table.hpp"

#include <algorithm>

namespace gw {
namespace {

std::size_t direction_index(RuleDirection direction) {
    return std::size_t(direction);
}

// Empty = any address.
bool any_network_contains(const std::vector<Ipv4Network>& networks, Ipv4Address address) noexcept {
    if (networks.empty()) return true;
    return std::any_of(networks.begin(), networks.end(), [&](const Ipv4Network& n) { return n.contains(address); });
}

bool any_network_contains(const std::vector<Ipv6Network>& networks, const Ipv6Address& address) noexcept {
    if (networks.empty()) return true;
    return std::any_of(networks.begin(), networks.end(), [&](const Ipv6Network& n) { return n.contains(address); });
}

// Empty = any port; a non-empty list needs a packet that has ports.
bool any_range_contains(const std::vector<PortRange>& ranges, Port port, bool has_ports) noexcept {
    if (ranges.empty()) return true;
    if (!has_ports) return false;
    return std::any_of(ranges.begin(), ranges.end(), [&](const PortRange& r) { return r.contains(port); });
}

}  // namespace

RuleTable::RuleTable(const FirewallConfig& config) : policies_(config.policies) {
    entries_.reserve(config.rules.size());
    for (const FirewallRule& rule : config.rules) {
        Entry entry{rule, std::nullopt, std::nullopt};
        if (rule.protocol) entry.protocol = std::uint8_t(*rule.protocol);
        if (rule.rate_limit) entry.limiter.emplace(*rule.rate_limit);
        by_direction_[direction_index(rule.direction)].push_back(std::uint32_t(entries_.size()));
        entries_.push_back(std::move(entry));
    }
}

bool RuleTable::matches(const Entry& entry, const PacketFacts& packet) noexcept {
    const FirewallRule& rule = entry.rule;
    if (entry.protocol && *entry.protocol != packet.protocol) return false;
    if (rule.interface && *rule.interface != packet.arrival_interface) return false;
    if (packet.ipv6) {
        if (!rule.sources.empty() || !rule.destinations.empty()) return false;  // an IPv4 rule
        if (!any_network_contains(rule.ipv6_sources, packet.ipv6_source)) return false;
        if (!any_network_contains(rule.ipv6_destinations, packet.ipv6_destination)) return false;
    } else {
        if (!rule.ipv6_sources.empty() || !rule.ipv6_destinations.empty()) return false;  // an IPv6 rule
        if (!any_network_contains(rule.sources, packet.source)) return false;
        if (!any_network_contains(rule.destinations, packet.destination)) return false;
    }
    if (!any_range_contains(rule.source_ports, packet.source_port, packet.has_ports)) return false;
    if (!any_range_contains(rule.destination_ports, packet.destination_port, packet.has_ports)) return false;
    if (rule.icmp_type && !(packet.has_icmp_type && packet.icmp_type == *rule.icmp_type)) return false;
    return true;
}

RuleAction RuleTable::policy_for(RuleDirection direction) const noexcept {
    switch (direction) {
        case RuleDirection::inbound: return policies_.inbound;
        case RuleDirection::outbound: return policies_.outbound;
        case RuleDirection::input: return policies_.input;
    }
    return RuleAction::drop;
}

RuleDecision RuleTable::decide(const PacketFacts& packet, Instant now) noexcept {
    std::size_t direction = direction_index(packet.direction);
    if (direction < by_direction_.size()) {
        for (std::uint32_t index : by_direction_[direction]) {
            Entry& entry = entries_[index];
            if (!matches(entry, packet)) continue;
            // The bucket is consulted last, so only packets the rule is about spend its tokens.
            if (entry.limiter && !entry.limiter->admit(now)) {
                ++entry.rate_limited;
                continue;
            }
            ++entry.matched;
            entry.bytes += packet.length;
            return {entry.rule.action, &entry.rule, entry.rule.log};
        }
        ++policy_decisions_[direction];
        policy_bytes_[direction] += packet.length;
    }
    return {policy_for(packet.direction), nullptr, false};
}

std::vector<RuleTable::RuleCounter> RuleTable::counters() const {
    std::vector<RuleCounter> result;
    result.reserve(entries_.size());
    for (const Entry& entry : entries_)
        result.push_back({&entry.rule, entry.rule.name, entry.matched, entry.bytes, entry.rate_limited});
    return result;
}

namespace {

// The same rule for its counters: everything but where in the file it stands.
bool same_rule(const FirewallRule& a, const FirewallRule& b) {
    return a.name == b.name && a.direction == b.direction && a.protocol == b.protocol && a.sources == b.sources &&
           a.destinations == b.destinations && a.ipv6_sources == b.ipv6_sources &&
           a.ipv6_destinations == b.ipv6_destinations && a.source_ports == b.source_ports &&
           a.destination_ports == b.destination_ports && a.icmp_type == b.icmp_type && a.interface == b.interface &&
           a.action == b.action && a.log == b.log && a.rate_limit == b.rate_limit;
}

}  // namespace

void RuleTable::keep_counters_of(const RuleTable& previous) noexcept {
    for (Entry& entry : entries_)
        for (const Entry& old : previous.entries_)
            if (same_rule(entry.rule, old.rule)) {
                entry.matched = old.matched;
                entry.bytes = old.bytes;
                entry.rate_limited = old.rate_limited;
                break;
            }
    for (RuleDirection d : {RuleDirection::inbound, RuleDirection::outbound, RuleDirection::input}) {
        if (policy_for(d) != previous.policy_for(d)) continue;
        std::size_t i = direction_index(d);
        policy_decisions_[i] = previous.policy_decisions_[i];
        policy_bytes_[i] = previous.policy_bytes_[i];
    }
}

std::uint64_t RuleTable::policy_decisions(RuleDirection direction) const noexcept {
    std::size_t index = direction_index(direction);
    return index < policy_decisions_.size() ? policy_decisions_[index] : 0;
}

std::uint64_t RuleTable::policy_bytes(RuleDirection direction) const noexcept {
    std::size_t index = direction_index(direction);
    return index < policy_bytes_.size() ? policy_bytes_[index] : 0;
}

}  // namespace gw
