#include "firewall/pinhole_table.hpp"

#include <algorithm>

namespace gw {

PinholeTable::Entry* PinholeTable::find(std::uint16_t id) noexcept {
    auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.pinhole.id == id; });
    return it == entries_.end() ? nullptr : &*it;
}

bool PinholeTable::open(const Pinhole& pinhole) {
    if (pinhole.id == 0) return false;
    if (Entry* existing = find(pinhole.id)) {
        // UpdatePinhole renews the lease of the same pinhole: its count goes on.
        if (!(existing->pinhole == pinhole)) *existing = {pinhole, 0};
        return true;
    }
    entries_.push_back({pinhole, 0});
    return true;
}

bool PinholeTable::close(std::uint16_t id) {
    auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.pinhole.id == id; });
    if (it == entries_.end()) return false;
    entries_.erase(it);
    return true;
}

bool PinholeTable::matches(const Pinhole& p, const PinholeProbe& probe) noexcept {
    if (p.protocol != any_ip_protocol && p.protocol != probe.protocol) return false;
    if (p.internal_client != probe.internal) return false;
    if (p.remote_host && *p.remote_host != probe.remote) return false;
    if ((p.remote_port != 0 || p.internal_port != 0) && !probe.has_ports) return false;
    if (p.remote_port != 0 && p.remote_port != probe.remote_port) return false;
    if (p.internal_port != 0 && p.internal_port != probe.internal_port) return false;
    return true;
}

std::uint16_t PinholeTable::match(const PinholeProbe& probe) const noexcept {
    for (const Entry& e : entries_)
        if (matches(e.pinhole, probe)) return e.pinhole.id;
    return 0;
}

void PinholeTable::count_packet(std::uint16_t id) noexcept {
    if (Entry* e = find(id)) ++e->packets;
}

std::optional<std::uint64_t> PinholeTable::packets(std::uint16_t id) const noexcept {
    auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.pinhole.id == id; });
    if (it == entries_.end()) return std::nullopt;
    return it->packets;
}

}  // namespace gw
