#include "lan_host_counts.hpp"

namespace gw {

template <class Address>
BasicLanHostCounts<Address>::BasicLanHostCounts(std::uint32_t max_hosts)
    : records_(std::size_t(max_hosts) + 1), index_(max_hosts) {}

template <class Address>
std::uint32_t BasicLanHostCounts<Address>::find(const Address& host) const {
    return index_.find(host_hash(host), [&](std::uint32_t id) { return records_[id].host == host; });
}

template <class Address>
std::uint32_t BasicLanHostCounts<Address>::count_of(const Address& host) const {
    std::uint32_t id = find(host);
    return id == 0 ? 0 : records_[id].count;
}

template <class Address>
bool BasicLanHostCounts<Address>::add(const Address& host, std::uint32_t limit) {
    if (std::uint32_t id = find(host); id != 0) {
        if (records_[id].count >= limit) return false;
        ++records_[id].count;
        return true;
    }
    if (limit == 0) return false;
    std::uint32_t id;
    if (free_head_ != 0) {
        id = free_head_;
        free_head_ = records_[id].next_free;
    } else if (high_water_ + 1 < records_.size()) {
        id = ++high_water_;
    } else {
        return false;
    }
    records_[id] = Record{host, 1, 0};
    index_.insert(host_hash(host), id);
    ++live_;
    return true;
}

template <class Address>
void BasicLanHostCounts<Address>::remove(const Address& host) {
    std::uint32_t id = find(host);
    if (id == 0 || --records_[id].count > 0) return;
    index_.erase(host_hash(host), id, [this](std::uint32_t other) { return host_hash(records_[other].host); });
    records_[id].next_free = free_head_;
    free_head_ = id;
    --live_;
}

template <class Address>
std::optional<Address> BasicLanHostCounts<Address>::busiest() const {
    std::uint32_t best = 0;
    for (std::uint32_t id = 1; id <= high_water_; ++id)
        if (records_[id].count > (best == 0 ? 0 : records_[best].count)) best = id;
    if (best == 0) return std::nullopt;
    return records_[best].host;
}

template class BasicLanHostCounts<Ipv4Address>;
template class BasicLanHostCounts<Ipv6Address>;

}  // namespace gw
