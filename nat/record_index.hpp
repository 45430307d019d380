// A hash index over records that live in a slot array elsewhere (flows, mappings): an
// open-addressing table of 32-bit entries, each a record id plus a few bits of its
// key's hash (the tag). The key itself is never copied: a lookup compares it against
// the record the entry names, and the tag makes that comparison (a cache miss) rare
// for entries that only share a slot.
//
// Linear probing; deletion shifts the entries behind the hole back (no tombstones, so
// lookups never slow down with churn). All memory is taken when it is built, sized
// from the most records it will ever hold; inserting and erasing never allocate.
// The capacity is 1.5x that maximum (load at most 2/3, a few probes per lookup) and
// need not be a power of two: the slot is picked by multiply-shift, not by a mask, so
// a maximum just under a power of two (1 M flows) does not double the memory.
//
// Not thread safe: owned by its table's worker.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "nat/huge_pages.hpp"

namespace gw {

// A 64-bit mix (the murmur3 finaliser) for the keys of RecordIndex: the slot comes from
// the low half, the tag from the high half, so both must depend on every key bit.
constexpr std::uint64_t mix_hash(std::uint64_t x) noexcept {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

class RecordIndex {
public:
    using Id = std::uint32_t;  // a record's slot number; 0 = none

    // Room for `max_records` entries whose ids are 1..max_records.
    explicit RecordIndex(std::uint32_t max_records)
        : id_bits_(std::bit_width(max_records)),
          id_mask_((Id(1) << id_bits_) - 1),
          entries_(std::size_t(max_records) + max_records / 2 + 8, 0) {}

    // The id of the record carrying the key, or 0. `matches(id)` says whether record
    // `id` carries the key looked for; it is asked only about entries with the same tag.
    template <class Matches>
    Id find(std::uint64_t hash, Matches&& matches) const noexcept {
        const std::uint32_t tag = tag_of(hash);
        for (std::size_t i = home_of(hash);; i = next(i)) {
            const std::uint32_t entry = entries_[i];
            if (entry == 0) return 0;
            if ((entry >> id_bits_) == tag && matches(Id(entry & id_mask_))) return Id(entry & id_mask_);
        }
    }

    // Hints for a batch that overlaps its lookups' cache misses (PacketEngine::judge_batch):
    // ask the memory for the entry a lookup of `hash` reads first, and later, once it has
    // arrived, name the record whose tag matches (the one `find` would compare first), or 0.
    // Neither changes anything, and a stale answer costs only a wasted prefetch.
    void prefetch(std::uint64_t hash) const noexcept { __builtin_prefetch(&entries_[home_of(hash)]); }
    Id first_candidate(std::uint64_t hash) const noexcept {
        const std::uint32_t tag = tag_of(hash);
        for (std::size_t i = home_of(hash);; i = next(i)) {
            const std::uint32_t entry = entries_[i];
            if (entry == 0) return 0;
            if ((entry >> id_bits_) == tag) return Id(entry & id_mask_);
        }
    }

    // Indexes record `id` under `hash`. The caller makes sure its key is not indexed yet
    // and that no more than max_records entries are ever held (so a free slot exists).
    void insert(std::uint64_t hash, Id id) noexcept {
        std::size_t i = home_of(hash);
        while (entries_[i] != 0) i = next(i);
        entries_[i] = (tag_of(hash) << id_bits_) | id;
        ++size_;
    }

    // Points the entry of `old_id` (indexed under `hash`) at `new_id`, a record with the
    // same key. False when `old_id` is not indexed under `hash`.
    bool replace(std::uint64_t hash, Id old_id, Id new_id) noexcept {
        std::size_t i;
        if (!position_of(hash, old_id, i)) return false;
        entries_[i] = (tag_of(hash) << id_bits_) | new_id;
        return true;
    }

    // Removes the entry of record `id` indexed under `hash`; false when there is none
    // (another record took the key since). `hash_of(id)` gives the hash of any indexed
    // record: the entries behind the hole move back towards their home slots.
    template <class HashOf>
    bool erase(std::uint64_t hash, Id id, HashOf&& hash_of) noexcept {
        std::size_t hole;
        if (!position_of(hash, id, hole)) return false;
        for (std::size_t j = next(hole);; j = next(j)) {
            const std::uint32_t entry = entries_[j];
            if (entry == 0) break;
            std::size_t home = home_of(hash_of(Id(entry & id_mask_)));
            // The entry may fill the hole unless its home lies after the hole (cyclically
            // in (hole, j]): then moving it would put it before its home, out of reach.
            if (distance(home, j) >= distance(hole, j)) {
                entries_[hole] = entry;
                hole = j;
            }
        }
        entries_[hole] = 0;
        --size_;
        return true;
    }

    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return entries_.size(); }
    std::size_t memory_bytes() const noexcept { return entries_.size() * sizeof(std::uint32_t); }

private:
    std::uint32_t tag_of(std::uint64_t hash) const noexcept { return std::uint32_t(hash >> (32 + id_bits_)); }
    std::size_t home_of(std::uint64_t hash) const noexcept {
        return std::size_t((std::uint64_t(std::uint32_t(hash)) * entries_.size()) >> 32);
    }
    std::size_t next(std::size_t i) const noexcept { return i + 1 == entries_.size() ? 0 : i + 1; }
    std::size_t distance(std::size_t from, std::size_t to) const noexcept {
        return to >= from ? to - from : to + entries_.size() - from;
    }
    bool position_of(std::uint64_t hash, Id id, std::size_t& position) const noexcept {
        const std::uint32_t wanted = (tag_of(hash) << id_bits_) | id;
        for (std::size_t i = home_of(hash);; i = next(i)) {
            if (entries_[i] == 0) return false;
            if (entries_[i] == wanted) {
                position = i;
                return true;
            }
        }
    }

    int id_bits_;
    Id id_mask_;
    std::vector<std::uint32_t, HugePageAllocator<std::uint32_t>> entries_;  // 0 = empty; otherwise tag << id_bits_ | id
    std::size_t size_ = 0;
};

}  // namespace gw
