// Remembers where the first fragment of an inbound datagram went, so that its later
// fragments (which carry no ports) can follow it to the same LAN host.
//
// Keyed by the full RFC 791 reassembly key (source, destination, protocol,
// identification). Entries live for the reassembly timeout and the table is bounded:
// when full, the oldest entry goes first. Not thread safe: owned by one worker.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>

#include "endpoint.hpp"
#include "mapping.hpp"

namespace gw {

struct FragmentKey {
    Ipv4Address source;
    Ipv4Address destination;
    std::uint8_t protocol = 0;
    std::uint16_t identification = 0;
    bool operator==(const FragmentKey&) const = default;
};

class FragmentTable {
public:
    // Linux's ipfrag_time default is 30 s: a datagram still incomplete after that is gone anyway.
    static constexpr Instant lifetime = std::chrono::seconds(30);
    static constexpr std::size_t default_capacity = 8192;

    explicit FragmentTable(std::size_t capacity = default_capacity) : capacity_(capacity) {}

    void remember(const FragmentKey& key, Ipv4Address internal_destination, Instant now);
    std::optional<Ipv4Address> find(const FragmentKey& key, Instant now);
    std::size_t size() const { return entries_.size(); }

private:
    struct KeyHash {
        std::size_t operator()(const FragmentKey& k) const noexcept;
    };
    struct Entry {
        Ipv4Address internal_destination;
        Instant expires;
    };
    void forget_expired(Instant now);

    std::size_t capacity_;
    std::unordered_map<FragmentKey, Entry, KeyHash> entries_;
    std::deque<std::pair<Instant, FragmentKey>> by_age_;  // expiry order, as inserted
};

}  // namespace gw
