#include "fragment_table.hpp"

namespace gw {

std::size_t FragmentTable::KeyHash::operator()(const FragmentKey& k) const noexcept {
    std::uint64_t x = (std::uint64_t(k.source.host_order()) << 32) ^ k.destination.host_order();
    x ^= (std::uint64_t(k.identification) << 16) ^ k.protocol;
    x *= 0x9e3779b97f4a7c15ULL;
    return std::size_t(x ^ (x >> 29));
}

void FragmentTable::forget_expired(Instant now) {
    while (!by_age_.empty() && (by_age_.front().first <= now || by_age_.size() > capacity_)) {
        auto it = entries_.find(by_age_.front().second);
        // A re-remembered key has a later expiry; only the matching queue entry removes it.
        if (it != entries_.end() && it->second.expires == by_age_.front().first) entries_.erase(it);
        by_age_.pop_front();
    }
}

void FragmentTable::remember(const FragmentKey& key, Ipv4Address internal_destination, Instant now) {
    Instant expires = now + lifetime;
    entries_[key] = Entry{internal_destination, expires};
    by_age_.emplace_back(expires, key);
    forget_expired(now);
}

std::optional<Ipv4Address> FragmentTable::find(const FragmentKey& key, Instant now) {
    forget_expired(now);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    return it->second.internal_destination;
}

}  // namespace gw
