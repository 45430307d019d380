// A count per LAN host (how many flows it started, how many external ports it holds),
// for the per-host limits of nat.max_flows_per_host and nat.max_ports_per_host. A host
// has a record only while its count is above zero.
//
// Fixed size, taken up front: at most `max_hosts` hosts hold something at once; a
// host beyond that is refused like one at its limit (a LAN of more than 65536 busy
// hosts is not a home network). Lookups go through a RecordIndex keyed by address.
//
// Not thread safe: owned by its table's worker.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "endpoint.hpp"
#include "record_index.hpp"

namespace gw {

class LanHostCounts {
public:
    static constexpr std::uint32_t default_max_hosts = 65536;

    explicit LanHostCounts(std::uint32_t max_hosts = default_max_hosts);

    // The count of `host`; 0 when it holds nothing.
    std::uint32_t count_of(Ipv4Address host) const;
    // One more for `host`, unless it is at `limit` (or the table has no room for a new
    // host): false then, and nothing changes.
    bool add(Ipv4Address host, std::uint32_t limit);
    // One less for `host` (which must have one).
    void remove(Ipv4Address host);

    // The host with the highest count (ties: any of them); nullopt when none holds any.
    // A scan of the hosts holding something, for the rare eviction from a full table.
    std::optional<Ipv4Address> busiest() const;

    std::size_t hosts() const { return live_; }
    std::size_t memory_bytes() const { return records_.capacity() * sizeof(Record) + index_.memory_bytes(); }

private:
    struct Record {
        Ipv4Address host;
        std::uint32_t count = 0;  // 0 = free record, linked through `next_free`
        std::uint32_t next_free = 0;
    };
    static std::uint64_t hash(Ipv4Address host) { return mix_hash(host.host_order() | 1ULL << 40); }
    std::uint32_t find(Ipv4Address host) const;

    std::vector<Record> records_;  // records_[0] unused
    RecordIndex index_;
    std::uint32_t free_head_ = 0, high_water_ = 0;
    std::size_t live_ = 0;
};

}  // namespace gw
