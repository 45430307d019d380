// A count per LAN host (how many flows it started, how many external ports it holds),
// for the per-host limits of nat.limits.flows_per_host and nat.limits.ports_per_host.
// A host has a record only while its count is above zero. One template for both
// address families: an IPv4 host is its address, an IPv6 host each of its addresses
// (a host with privacy addresses has several; a /64 would be the whole LAN).
//
// Fixed size, taken up front: at most `max_hosts` hosts hold something at once; a
// host beyond that is refused like one at its limit (a LAN of more than 65536 busy
// hosts is not a home network). Lookups go through a RecordIndex keyed by address.
//
// Not thread safe: owned by its table's worker.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "endpoint.hpp"
#include "ipv6_address.hpp"
#include "record_index.hpp"

namespace gw {

inline std::uint64_t host_hash(Ipv4Address host) { return mix_hash(host.host_order() | 1ULL << 40); }
inline std::uint64_t host_hash(const Ipv6Address& host) {
    std::uint64_t words[2];
    std::memcpy(words, host.bytes().data(), 16);
    return mix_hash(mix_hash(words[0] ^ (1ULL << 41)) ^ words[1]);
}

template <class Address>
class BasicLanHostCounts {
public:
    static constexpr std::uint32_t default_max_hosts = 65536;

    explicit BasicLanHostCounts(std::uint32_t max_hosts = default_max_hosts);

    // The count of `host`; 0 when it holds nothing.
    std::uint32_t count_of(const Address& host) const;
    // One more for `host`, unless it is at `limit` (or the table has no room for a new
    // host): false then, and nothing changes.
    bool add(const Address& host, std::uint32_t limit);
    // One less for `host` (which must have one).
    void remove(const Address& host);

    // The host with the highest count (ties: any of them); nullopt when none holds any.
    // A scan of the hosts holding something, for the rare eviction from a full table.
    std::optional<Address> busiest() const;

    std::size_t hosts() const { return live_; }
    std::size_t memory_bytes() const { return records_.capacity() * sizeof(Record) + index_.memory_bytes(); }

private:
    struct Record {
        Address host;
        std::uint32_t count = 0;  // 0 = free record, linked through `next_free`
        std::uint32_t next_free = 0;
    };
    std::uint32_t find(const Address& host) const;

    std::vector<Record> records_;  // records_[0] unused
    RecordIndex index_;
    std::uint32_t free_head_ = 0, high_water_ = 0;
    std::size_t live_ = 0;
};

using LanHostCounts = BasicLanHostCounts<Ipv4Address>;
using Ipv6LanHostCounts = BasicLanHostCounts<Ipv6Address>;

extern template class BasicLanHostCounts<Ipv4Address>;
extern template class BasicLanHostCounts<Ipv6Address>;

}  // namespace gw
