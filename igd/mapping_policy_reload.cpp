// MappingPolicy changed in place by a reload (mapping_policy.hpp: reconfigure).
#include <algorithm>
#include <map>

#include "igd/mapping_policy.hpp"

namespace gw {

std::vector<PortMapping> MappingPolicy::reconfigure(const IgdConfig& config, Instant now) {
    const int igd_version = config_.igd_version;
    const std::string lease_file = config_.lease_file;
    config_ = config;
    config_.igd_version = igd_version;  // the description pupnp serves says which
    config_.lease_file = lease_file;
    std::vector<PortMapping> shortened;
    auto cap = lease_cap_seconds();
    if (!cap) return shortened;
    const Instant latest = now + std::chrono::seconds(*cap);
    for (auto& [key, m] : mappings_) {
        if (m.expires && (*m.expires <= now || *m.expires <= latest)) continue;
        m.expires = latest;  // a permanent lease too: the cap applies to every lease
        shortened.push_back(m);
    }
    if (!shortened.empty()) changed();
    return shortened;
}

MappingPolicy::HeldOutsidePolicy MappingPolicy::held_outside_policy(Instant now) const {
    HeldOutsidePolicy held;
    std::map<Ipv4Address, std::size_t> owned;
    std::size_t total = 0;
    for (const auto& [key, m] : mappings_) {
        if (m.expires && now >= *m.expires) continue;
        ++total;
        ++owned[m.owner];
        if (!permitted(m.external, m.internal) || (config_.secure_mode && m.internal.address != m.owner)) ++held.denied;
    }
    std::size_t over_clients = 0;
    for (const auto& [owner, count] : owned)
        if (count > config_.per_client_limit) over_clients += count - config_.per_client_limit;
    const std::size_t over_total = total > config_.max_mappings ? total - config_.max_mappings : 0;
    held.over_limits = std::max(over_clients, over_total);
    return held;
}

}  // namespace gw
