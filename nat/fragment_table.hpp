// Follows fragmented datagrams through the gateway without reassembling them: the
// first fragment (which carries the ports) is judged and translated like any packet,
// and its verdict is remembered so that the later fragments (which carry none) follow
// it — to the same LAN host inbound, out of the WAN address outbound (with the IP
// identification the first left with), to the gateway's own stack when the first went
// there — or are dropped when it was dropped or never seen (a later fragment that comes
// first included: nothing here holds one back).
//
// Live, IPv4 fragments seldom get here: the daemon has the kernel reassemble them ahead
// of the queue (daemon/queue_rules.hpp, GATEWAYD_DEFRAG), so fragments in any order reach
// the engine as one datagram (RFC 4787 REQ-14). This table serves what still comes in
// pieces: IPv6, `gatewayd --replay` of a capture, a namespace without that chain.
//
// It also refuses what reassembly attacks are made of, as the receiver would have to
// (RFC 791 reassembly, RFC 1858, RFC 5722's reasoning applied to IPv4 as Linux does since
// CVE-2018-5391 "FragmentSmack"): empty fragments, non-last fragments not a multiple of 8
// bytes, fragments reaching past 65535 bytes (ping of death, CVE-1999-0128), overlapping
// or duplicated fragments (teardrop, RFC 1858 overlap evasion), data past the last fragment.
//
// Keyed by the full reassembly key: RFC 791's (source, destination, protocol,
// identification) for IPv4, RFC 8200 §4.5's (source, destination, identification) for
// IPv6 — one template for both families (issue 15), IPv6's rules being the same (RFC
// 5722: overlapping fragments are dropped; RFC 8200: a later fragment follows its first).
// Entries live for the reassembly timeout, or until every byte of the datagram has been
// seen. Hashed buckets, bounded and preallocated: no allocation after construction;
// when full, the oldest entry goes first. Not thread safe: owned by one worker.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "drop_reason.hpp"
#include "endpoint.hpp"
#include "ipv6_address.hpp"
#include "mapping.hpp"
#include "packet_view.hpp"

namespace gw {

struct FragmentKey {
    Ipv4Address source;
    Ipv4Address destination;
    std::uint8_t protocol = 0;
    std::uint16_t identification = 0;
    bool operator==(const FragmentKey&) const = default;
};

struct Ipv6FragmentKey {
    Ipv6Address source;
    Ipv6Address destination;
    std::uint32_t identification = 0;
    bool operator==(const Ipv6FragmentKey&) const = default;
};

std::uint64_t fragment_hash(const FragmentKey& key) noexcept;
std::uint64_t fragment_hash(const Ipv6FragmentKey& key) noexcept;

// One fragment as the table sees it: its key and the bytes it holds, [start, end) from
// the start of the datagram's fragmentable part (IPv4: the transport header; IPv6: what
// follows the fragment header).
template <class Key>
struct BasicFragmentPiece {
    Key key;
    std::uint32_t start = 0;
    std::uint32_t end = 0;
    bool last = false;  // MF clear: `end` is the datagram's transport length
    // IPv4: the header's length; IPv6: the extension headers before the fragment header.
    // With `end`, what the reassembled datagram would need of its 65535 bytes.
    std::size_t ip_header_length = 0;
};

struct FragmentPiece : BasicFragmentPiece<FragmentKey> {
    static FragmentPiece of(const PacketView& fragment);
};
using Ipv6FragmentPiece = BasicFragmentPiece<Ipv6FragmentKey>;

// What the first fragment's verdict means for the ones after it.
struct FirstFragmentVerdict {
    bool to_gateway = false;                // delivered to the gateway's own stack
    Ipv4Address internal_destination;       // inbound, forwarded: the LAN host it went to
    // For a TCP segment the firewall tracks: its flow (the firewall's slot number, opaque
    // here; 0 = none), which side sent it, and the sequence number that transport byte 0
    // would have, so that later fragments can extend the tracked sequence space.
    std::uint32_t flow = 0;
    bool from_originator = false;
    std::uint32_t sequence_of_byte_0 = 0;
    // Outbound: the identification the first fragment left with (ip_identification.hpp),
    // which its later fragments must carry too, or the remote could not reassemble them.
    std::uint16_t identification = 0;
};

template <class Key>
class BasicFragmentTable {
public:
    using Piece = BasicFragmentPiece<Key>;
    // Linux's ipfrag_time default is 30 s: a datagram still incomplete after that is gone anyway.
    static constexpr Instant lifetime = std::chrono::seconds(30);
    static constexpr std::size_t default_capacity = 8192;
    // Pieces of one datagram kept apart (adjacent ones merge, so in-order arrival needs
    // one): enough for any reordering a real path produces, small enough to stay in the slot.
    static constexpr std::size_t max_ranges = 8;

    explicit BasicFragmentTable(std::size_t capacity = default_capacity);

    // Checks a fragment's shape alone: empty, misaligned, past 65535 bytes.
    static DropReason shape_problem(const Piece& piece) noexcept;

    // Before a first fragment is judged: its shape, and that no first fragment of the
    // same datagram came before (a second one overlaps it).
    DropReason check_first(const Piece& first, Instant now) noexcept;
    // After a first fragment was forwarded or delivered: its later fragments may follow.
    void remember_first(const Piece& first, FirstFragmentVerdict verdict, Instant now) noexcept;

    // A later fragment: where its first fragment went, or why it must be dropped
    // (fragment_without_first, overlapping_fragment, malformed_fragment, a shape problem).
    // On success its bytes are recorded, and a complete datagram is forgotten.
    struct Admission {
        DropReason reason = DropReason::none;
        FirstFragmentVerdict verdict;
    };
    Admission admit_later(const Piece& later, Instant now) noexcept;

    std::size_t size() const { return live_; }
    std::size_t capacity() const { return slots_.size() - 1; }
    std::uint64_t evicted_total() const { return evicted_; }

private:
    using SlotId = std::uint32_t;  // 0 = none
    struct Range {
        std::uint16_t start = 0, end = 0;
    };
    struct Slot {
        Key key;
        FirstFragmentVerdict verdict;
        Instant expires{0};
        std::array<Range, max_ranges> ranges{};  // sorted, disjoint, not adjacent
        std::uint8_t range_count = 0;
        bool last_seen = false;
        std::uint16_t total = 0;  // transport length, once the last fragment is seen
        SlotId bucket_next = 0;
        SlotId older = 0, newer = 0;  // age list (insertion order is expiry order)
    };

    std::size_t bucket_of(const Key& key) const noexcept { return std::size_t(fragment_hash(key)) & (buckets_.size() - 1); }
    SlotId find(const Key& key, Instant now) noexcept;
    void forget_expired(Instant now) noexcept;
    void release(SlotId id) noexcept;
    // Adds [start, end) to the slot's ranges: overlapping_fragment, malformed_fragment or none.
    DropReason add_range(Slot& slot, const Piece& piece) noexcept;
    bool complete(const Slot& slot) const noexcept;

    std::vector<Slot> slots_;          // slot 0 unused
    std::vector<SlotId> buckets_;      // power of two
    SlotId free_ = 0;                  // free list through bucket_next
    SlotId oldest_ = 0, newest_ = 0;
    std::size_t live_ = 0;
    std::uint64_t evicted_ = 0;
};

using FragmentTable = BasicFragmentTable<FragmentKey>;
using Ipv6FragmentTable = BasicFragmentTable<Ipv6FragmentKey>;
extern template class BasicFragmentTable<FragmentKey>;
extern template class BasicFragmentTable<Ipv6FragmentKey>;

}  // namespace gw
