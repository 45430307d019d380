// The IPv6 firewall's connection table (issue 8): one record per IPv6 flow between a
// LAN host and a remote host, with its TCP tracking state and idle deadline.
//
// No NAT for IPv6, so a flow has one tuple, the same on both sides of the gateway: the
// record is indexed once, under its key with the LAN end first (STYLE 13's two keys
// collapse into one), and a packet of either direction finds it by putting its LAN end
// first. All memory is taken at construction (`max_flows` records and their index);
// inserting and erasing never allocate. Live records are kept dense (an erased record's
// slot is filled by the last one), so expiry walks only live flows.
//
// Pure: time comes in as a parameter. Not thread safe: owned by the engine's worker.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "firewall/tcp_tracker.hpp"
#include "nat/ipv6_address.hpp"
#include "nat/mapping.hpp"
#include "nat/record_index.hpp"

namespace gw {

struct Ipv6FlowKey {
    std::uint8_t protocol = 0;
    Ipv6Address lan_address;
    std::uint16_t lan_port = 0;     // TCP/UDP port; the echo identifier for ICMPv6; 0 otherwise
    Ipv6Address remote_address;
    std::uint16_t remote_port = 0;  // 0 for ICMPv6 echo and port-less protocols

    bool operator==(const Ipv6FlowKey&) const = default;
    std::uint64_t hash() const noexcept;
};

// lan / wan: a forwarded flow a LAN host / a WAN host started. gateway / to_gateway: the
// gateway's own (issue 13): one it started, one a remote host started to it (admitted by
// the input rules). The gateway's own flows put the gateway's address at the LAN end.
enum class Ipv6FlowOrigin : std::uint8_t { lan, wan, gateway, to_gateway };

struct Ipv6Flow {
    Ipv6FlowKey key;
    Ipv6FlowOrigin origin = Ipv6FlowOrigin::lan;
    bool reply_seen = false;
    std::uint16_t pinhole = 0;  // the pinhole that let it in; 0 = none
    TcpTracker tcp;             // TCP only
    Instant last_activity{0};
    Instant expires{0};         // last_activity + the timeout of its class
    std::uint64_t packets = 0;
};

class Ipv6FlowTable {
public:
    explicit Ipv6FlowTable(std::uint32_t max_flows);

    // The live flow with this key at `now`, or null (a flow past its deadline is not found).
    Ipv6Flow* find(const Ipv6FlowKey& key, Instant now) noexcept;
    // A new flow; null when the table is full. The caller makes sure the key is not live
    // (find first); an expired record under the key is replaced.
    Ipv6Flow* insert(const Ipv6Flow& flow, Instant now) noexcept;

    // Ends flows past their deadline; how many.
    std::size_t expire_idle(Instant now) noexcept;
    // Ends every flow `ends` says yes to; how many.
    std::size_t remove_if(const std::function<bool(const Ipv6Flow&)>& ends);

    template <class Visit>
    void for_each(Visit&& visit) const {
        for (std::size_t i = 0; i < size_; ++i) visit(records_[i]);
    }
    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return records_.size(); }
    std::uint64_t expired_total() const noexcept { return expired_total_; }

private:
    // Index ids are slot + 1 (0 means none in RecordIndex).
    void erase_at(std::size_t slot) noexcept;

    std::vector<Ipv6Flow> records_;
    std::size_t size_ = 0;
    RecordIndex index_;
    std::uint64_t expired_total_ = 0;
};

}  // namespace gw
