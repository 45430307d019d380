#include "fragment_table.hpp"

#include <bit>
#include <cstring>

#include "record_index.hpp"

namespace gw {
namespace {

constexpr std::uint32_t max_datagram = 65535;

}  // namespace

FragmentPiece FragmentPiece::of(const PacketView& fragment) {
    const auto& ip = *fragment.ip;
    FragmentPiece piece;
    piece.key = FragmentKey{ip.source(), ip.destination(), fragment.protocol, ip.identification()};
    piece.start = std::uint32_t(ip.fragment_offset_units()) * 8;
    piece.end = piece.start + std::uint32_t(fragment.l4_length);
    piece.last = !ip.more_fragments();
    piece.ip_header_length = ip.header_length();
    return piece;
}

std::uint64_t fragment_hash(const FragmentKey& k) noexcept {
    std::uint64_t x = (std::uint64_t(k.source.host_order()) << 32) ^ k.destination.host_order();
    x ^= (std::uint64_t(k.identification) << 16) ^ k.protocol;
    x *= 0x9e3779b97f4a7c15ULL;
    return x ^ (x >> 29);
}

std::uint64_t fragment_hash(const Ipv6FragmentKey& k) noexcept {
    std::uint64_t words[4];
    std::memcpy(&words[0], k.source.bytes().data(), 16);
    std::memcpy(&words[2], k.destination.bytes().data(), 16);
    std::uint64_t h = mix_hash(words[0] ^ k.identification);
    h = mix_hash(h ^ words[1]);
    h = mix_hash(h ^ words[2]);
    return mix_hash(h ^ words[3]);
}

template <class Key>
BasicFragmentTable<Key>::BasicFragmentTable(std::size_t capacity) {
    if (capacity == 0) capacity = 1;
    slots_.resize(capacity + 1);
    buckets_.assign(std::bit_ceil(capacity * 2), 0);
    for (SlotId id = SlotId(capacity); id >= 1; --id) {
        slots_[id].bucket_next = free_;
        free_ = id;
    }
}

template <class Key>
DropReason BasicFragmentTable<Key>::shape_problem(const Piece& piece) noexcept {
    if (piece.end == piece.start) return DropReason::empty_fragment;
    if (piece.ip_header_length + piece.end > max_datagram) return DropReason::oversized_fragment;
    // RFC 791: every fragment but the last carries a multiple of 8 bytes, or the next
    // offset could not be expressed.
    if (!piece.last && (piece.end - piece.start) % 8 != 0) return DropReason::malformed_fragment;
    return DropReason::none;
}

template <class Key>
void BasicFragmentTable<Key>::forget_expired(Instant now) noexcept {
    while (oldest_ != 0 && slots_[oldest_].expires <= now) release(oldest_);
}

template <class Key>
typename BasicFragmentTable<Key>::SlotId BasicFragmentTable<Key>::find(const Key& key, Instant now) noexcept {
    forget_expired(now);
    for (SlotId id = buckets_[bucket_of(key)]; id != 0; id = slots_[id].bucket_next)
        if (slots_[id].key == key) return id;
    return 0;
}

template <class Key>
void BasicFragmentTable<Key>::release(SlotId id) noexcept {
    Slot& slot = slots_[id];
    SlotId* link = &buckets_[bucket_of(slot.key)];
    while (*link != id) link = &slots_[*link].bucket_next;
    *link = slot.bucket_next;
    (slot.older ? slots_[slot.older].newer : oldest_) = slot.newer;
    (slot.newer ? slots_[slot.newer].older : newest_) = slot.older;
    slot = Slot{};
    slot.bucket_next = free_;
    free_ = id;
    --live_;
}

template <class Key>
DropReason BasicFragmentTable<Key>::check_first(const Piece& first, Instant now) noexcept {
    if (auto reason = shape_problem(first); reason != DropReason::none) return reason;
    // A second first fragment overlaps the first: whichever the receiver kept, a filter
    // that judged the other would have been evaded (RFC 1858 section 4).
    if (find(first.key, now) != 0) return DropReason::overlapping_fragment;
    return DropReason::none;
}

template <class Key>
void BasicFragmentTable<Key>::remember_first(const Piece& first, FirstFragmentVerdict verdict, Instant now) noexcept {
    forget_expired(now);
    if (free_ == 0) {  // full: the oldest datagram is the likeliest to be lost anyway
        release(oldest_);
        ++evicted_;
    }
    SlotId id = free_;
    Slot& slot = slots_[id];
    free_ = slot.bucket_next;
    slot = Slot{};
    slot.key = first.key;
    slot.verdict = verdict;
    slot.expires = now + lifetime;
    slot.ranges[0] = {0, std::uint16_t(first.end)};
    slot.range_count = 1;
    std::size_t bucket = bucket_of(first.key);
    slot.bucket_next = buckets_[bucket];
    buckets_[bucket] = id;
    slot.older = newest_;
    (newest_ ? slots_[newest_].newer : oldest_) = id;
    newest_ = id;
    ++live_;
}

template <class Key>
DropReason BasicFragmentTable<Key>::add_range(Slot& slot, const Piece& piece) noexcept {
    if (slot.last_seen && piece.end > slot.total) return DropReason::malformed_fragment;
    if (piece.last) {
        // A second, different end of the datagram, or an end before data already seen.
        bool ends_elsewhere = slot.last_seen && piece.end != slot.total;
        bool data_beyond = slot.range_count && slot.ranges[slot.range_count - 1].end > piece.end;
        if (ends_elsewhere || data_beyond) return DropReason::malformed_fragment;
    }
    std::size_t at = 0;  // the first range that ends after this piece starts
    while (at < slot.range_count && slot.ranges[at].end <= piece.start) ++at;
    if (at < slot.range_count && slot.ranges[at].start < piece.end) return DropReason::overlapping_fragment;
    bool joins_before = at > 0 && slot.ranges[at - 1].end == piece.start;
    bool joins_after = at < slot.range_count && slot.ranges[at].start == piece.end;
    if (joins_before && joins_after) {
        slot.ranges[at - 1].end = slot.ranges[at].end;
        for (std::size_t i = at; i + 1 < slot.range_count; ++i) slot.ranges[i] = slot.ranges[i + 1];
        --slot.range_count;
    } else if (joins_before) {
        slot.ranges[at - 1].end = std::uint16_t(piece.end);
    } else if (joins_after) {
        slot.ranges[at].start = std::uint16_t(piece.start);
    } else {
        // Too scattered to follow within the slot: no real path reorders this much.
        if (slot.range_count == max_ranges) return DropReason::malformed_fragment;
        for (std::size_t i = slot.range_count; i > at; --i) slot.ranges[i] = slot.ranges[i - 1];
        slot.ranges[at] = {std::uint16_t(piece.start), std::uint16_t(piece.end)};
        ++slot.range_count;
    }
    if (piece.last) {
        slot.last_seen = true;
        slot.total = std::uint16_t(piece.end);
    }
    return DropReason::none;
}

template <class Key>
bool BasicFragmentTable<Key>::complete(const Slot& slot) const noexcept {
    return slot.last_seen && slot.range_count == 1 && slot.ranges[0].start == 0 && slot.ranges[0].end == slot.total;
}

template <class Key>
typename BasicFragmentTable<Key>::Admission BasicFragmentTable<Key>::admit_later(const Piece& later, Instant now) noexcept {
    if (auto reason = shape_problem(later); reason != DropReason::none) return {reason, {}};
    SlotId id = find(later.key, now);
    // Reordered before its first fragment, or the first was dropped: either way nothing
    // says where it may go. (RFC 4787 REQ-14 asks a NAT to cope with such reordering; a
    // NAT that does not reassemble cannot, so it is counted rather than guessed at.)
    if (id == 0) return {DropReason::fragment_without_first, {}};
    Slot& slot = slots_[id];
    if (auto reason = add_range(slot, later); reason != DropReason::none) return {reason, {}};
    Admission admitted{DropReason::none, slot.verdict};
    if (complete(slot)) release(id);
    return admitted;
}

template class BasicFragmentTable<FragmentKey>;
template class BasicFragmentTable<Ipv6FragmentKey>;

}  // namespace gw
