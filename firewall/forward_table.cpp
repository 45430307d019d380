#include "forward_table.hpp"

#include "address_checks.hpp"

namespace gw {
namespace {

std::size_t port_index(Protocol protocol, Port port) {
    return (protocol == Protocol::udp ? 65536 : 0) + port.value;
}

}  // namespace

std::vector<std::pair<Protocol, PortRange>> static_forward_ports(const FirewallConfig& config) {
    std::vector<std::pair<Protocol, PortRange>> ports;
    for (const auto& f : config.forwards)
        if (f.enabled) ports.emplace_back(f.protocol, f.external_ports);
    return ports;
}

ForwardTable::ForwardTable(const FirewallConfig& config)
    : forwards_(config.forwards), static_counts_(forwards_.size()), by_port_(2 * 65536, 0), dmz_(config.dmz_host) {
    for (std::size_t i = 0; i < forwards_.size(); ++i) {
        const PortForward& f = forwards_[i];
        if (!f.enabled || (f.protocol != Protocol::tcp && f.protocol != Protocol::udp)) continue;
        for (std::uint32_t p = f.external_ports.first; p <= f.external_ports.last; ++p)
            by_port_[port_index(f.protocol, Port{std::uint16_t(p)})] = std::uint16_t(i + 1);
    }
}

std::optional<ForwardTarget> ForwardTable::target_of(Protocol protocol, Port external) const {
    if (protocol == Protocol::tcp || protocol == Protocol::udp) {
        if (std::uint16_t i = by_port_[port_index(protocol, external)]; i != 0) {
            const PortForward& f = forwards_[i - 1];
            auto offset = std::uint16_t(external.value - f.external_ports.first);
            return ForwardTarget{{f.internal.address, Port{std::uint16_t(f.internal.port.value + offset)}}, &f,
                                 std::nullopt};
        }
    }
    if (protocol == Protocol::tcp || protocol == Protocol::udp) {
        if (auto it = dynamic_.find(std::uint32_t(port_index(protocol, external))); it != dynamic_.end())
            return ForwardTarget{it->second.mapping.internal, nullptr, it->second.mapping.remote_host};
    }
    if (dmz_) return ForwardTarget{{*dmz_, external}, nullptr, std::nullopt, true};
    return std::nullopt;
}

bool ForwardTable::open(const DynamicForward& mapping) {
    if (mapping.protocol != Protocol::tcp && mapping.protocol != Protocol::udp) return false;
    auto index = port_index(mapping.protocol, mapping.external);
    if (by_port_[index] != 0) return false;
    dynamic_[std::uint32_t(index)] = DynamicEntry{mapping, {}};
    return true;
}

bool ForwardTable::close(Protocol protocol, Port external) {
    if (protocol != Protocol::tcp && protocol != Protocol::udp) return false;
    return dynamic_.erase(std::uint32_t(port_index(protocol, external))) != 0;
}

bool ForwardTable::has_dynamic(Protocol protocol, Port external) const {
    if (protocol != Protocol::tcp && protocol != Protocol::udp) return false;
    return dynamic_.contains(std::uint32_t(port_index(protocol, external)));
}

std::vector<DynamicForward> ForwardTable::dynamic_forwards() const {
    std::vector<DynamicForward> out;
    out.reserve(dynamic_.size());
    for (const auto& [index, entry] : dynamic_) out.push_back(entry.mapping);
    return out;
}

void ForwardTable::count_packet(Protocol protocol, Port external, std::size_t length) noexcept {
    if (protocol != Protocol::tcp && protocol != Protocol::udp) return;
    const std::size_t index = port_index(protocol, external);
    TrafficCount* count = nullptr;
    if (std::uint16_t i = by_port_[index]; i != 0) count = &static_counts_[i - 1];
    else if (auto it = dynamic_.find(std::uint32_t(index)); it != dynamic_.end()) count = &it->second.count;
    if (!count) return;
    ++count->packets;
    count->bytes += length;
}

TrafficCount ForwardTable::dynamic_count(Protocol protocol, Port external) const {
    if (protocol != Protocol::tcp && protocol != Protocol::udp) return {};
    auto it = dynamic_.find(std::uint32_t(port_index(protocol, external)));
    return it == dynamic_.end() ? TrafficCount{} : it->second.count;
}

void ForwardTable::keep_counters_of(const ForwardTable& old) {
    for (std::size_t i = 0; i < forwards_.size(); ++i) {
        const PortForward& f = forwards_[i];
        for (std::size_t j = 0; j < old.forwards_.size(); ++j) {
            const PortForward& o = old.forwards_[j];
            if (o.name == f.name && o.protocol == f.protocol && o.external_ports == f.external_ports &&
                o.internal == f.internal) {
                static_counts_[i] = old.static_counts_[j];
                break;
            }
        }
    }
    for (auto& [index, entry] : dynamic_)
        if (auto it = old.dynamic_.find(index); it != old.dynamic_.end() && it->second.mapping.internal == entry.mapping.internal)
            entry.count = it->second.count;
}

bool ForwardTable::admits(const PortForward& forward, Ipv4Address source) {
    return forward.allowed_sources.empty() || is_inside(source, forward.allowed_sources);
}

}  // namespace gw
