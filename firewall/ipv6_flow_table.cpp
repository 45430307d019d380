#include "firewall/ipv6_flow_table.hpp"

#include <cstring>

namespace gw {

std::uint64_t Ipv6FlowKey::hash() const noexcept {
    std::uint64_t words[4];
    std::memcpy(&words[0], lan_address.bytes().data(), 16);
    std::memcpy(&words[2], remote_address.bytes().data(), 16);
    std::uint64_t h = mix_hash(words[0] ^ (std::uint64_t(protocol) << 56));
    h = mix_hash(h ^ words[1]);
    h = mix_hash(h ^ words[2]);
    h = mix_hash(h ^ words[3]);
    return mix_hash(h ^ (std::uint64_t(lan_port) << 16 | remote_port));
}

Ipv6FlowTable::Ipv6FlowTable(std::uint32_t max_flows) : records_(max_flows), index_(max_flows) {}

Ipv6Flow* Ipv6FlowTable::find(const Ipv6FlowKey& key, Instant now) noexcept {
    RecordIndex::Id id = index_.find(key.hash(), [&](RecordIndex::Id candidate) {
        return records_[candidate - 1].key == key;
    });
    if (id == 0) return nullptr;
    Ipv6Flow& flow = records_[id - 1];
    return flow.expires > now ? &flow : nullptr;
}

Ipv6Flow* Ipv6FlowTable::insert(const Ipv6Flow& flow, Instant now) noexcept {
    std::uint64_t hash = flow.key.hash();
    // A record past its deadline but not yet reclaimed may still hold the key.
    RecordIndex::Id stale = index_.find(hash, [&](RecordIndex::Id candidate) {
        return records_[candidate - 1].key == flow.key;
    });
    if (stale != 0) {
        if (records_[stale - 1].expires > now) return nullptr;  // live: the caller should have found it
        records_[stale - 1] = flow;
        return &records_[stale - 1];
    }
    if (size_ == records_.size()) return nullptr;
    records_[size_] = flow;
    index_.insert(hash, RecordIndex::Id(size_ + 1));
    return &records_[size_++];
}

void Ipv6FlowTable::erase_at(std::size_t slot) noexcept {
    auto hash_of = [&](RecordIndex::Id id) { return records_[id - 1].key.hash(); };
    index_.erase(records_[slot].key.hash(), RecordIndex::Id(slot + 1), hash_of);
    const std::size_t last = size_ - 1;
    if (slot != last) {
        // The last record fills the hole, so the live records stay dense.
        index_.replace(records_[last].key.hash(), RecordIndex::Id(last + 1), RecordIndex::Id(slot + 1));
        records_[slot] = records_[last];
    }
    --size_;
}

std::size_t Ipv6FlowTable::expire_idle(Instant now) noexcept {
    std::size_t ended = 0;
    for (std::size_t i = 0; i < size_;) {
        if (records_[i].expires > now) {
            ++i;
            continue;
        }
        erase_at(i);  // the record moved into slot i is looked at next
        ++ended;
    }
    expired_total_ += ended;
    return ended;
}

std::size_t Ipv6FlowTable::remove_if(const std::function<bool(const Ipv6Flow&)>& ends) {
    std::size_t ended = 0;
    for (std::size_t i = 0; i < size_;) {
        if (!ends(records_[i])) {
            ++i;
            continue;
        }
        erase_at(i);
        ++ended;
    }
    return ended;
}

}  // namespace gw
