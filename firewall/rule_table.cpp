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
            return {entry.rule.action, &entry.rule, entry.rule.log};
        }
        ++policy_decisions_[direction];
    }
    return {policy_for(packet.direction), nullptr, false};
}

std::vector<RuleTable::RuleCounter> RuleTable::counters() const {
    std::vector<RuleCounter> result;
    result.reserve(entries_.size());
    for (const Entry& entry : entries_) result.push_back({entry.rule.name, entry.matched, entry.rate_limited});
    return result;
}

std::uint64_t RuleTable::policy_decisions(RuleDirection direction) const noexcept {
    std::size_t index = direction_index(direction);
    return index < policy_decisions_.size() ? policy_decisions_[index] : 0;
}

}  // namespace gw
