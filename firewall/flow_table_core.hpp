// What every flow table does whatever its keys, for IPv4 (flow_table.hpp: NAT, two keys)
// and IPv6 (ipv6_flow_table.hpp: no NAT, one key) alike: the preallocated records, their
// idle lists and expiry, the per-LAN-host limit, the embryonic cap and fair eviction.
// One machinery, so that neither family is a weaker copy of the other (issue 15).
//
// Records sit in one array allocated up front (max_flows + 1; slot 0 means "no flow");
// creating or ending a flow never allocates. The derived table indexes them under its
// own keys (CRTP: `Derived` provides index/unindex and the facts below).
//
// Expiry: each timeout class keeps its flows on an idle list ordered by last activity
// (touching a flow moves it to the tail), so reclaiming costs only the flows that
// actually expired. A lookup refuses a flow whose time is up even if it was not
// reclaimed yet (live_or_reclaimed), so expiry is exact whatever the reclaim cadence.
//
// Limits (issue 7, nat.limits): a LAN host may start at most flows_per_host flows; at
// most embryonic_inbound flows started from outside may wait unanswered (a spoofed-SYN
// flood is made of them). When the table is full, room is made by evicting, in this
// order: the oldest embryonic flow; else the oldest flow of the host that started the
// most (searched among the oldest eviction_scan_depth flows of each of the LAN-started
// idle lists), else the oldest flow of all. A new embryonic flow never evicts anything
// but another embryonic flow, so the WAN alone can never push the LAN out.
//
// What `Derived` provides (it befriends this class):
//   static bool is_embryonic(const Record&);   started from outside, not answered yet
//   static bool started_by_lan(const Record&);  counted against flows_per_host
//   static Address host_of(const Record&);      the LAN host it counts against
//   void index(Id), unindex(Id);                its keys
//   std::size_t end_links(Id);                  what the record holds besides its keys
//                                               (a mapping, a linked flow): flows ended with it
// and `Record` has the fields in_use, embryonic, timeout_class, last_activity, idle_prev
// and idle_next (a free slot links the free list through idle_next).
//
// The member functions are defined in flow_table_core_impl.hpp and instantiated once per
// family, in flow_table.cpp and ipv6_flow_table.cpp. Not thread safe: owned by the engine.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "firewall/timeout_class.hpp"
#include "nat/drop_reason.hpp"
#include "nat/huge_pages.hpp"
#include "nat/lan_host_counts.hpp"
#include "nat/nat_config.hpp"

namespace gw {

// One packet of `length` bytes passed on the flow (IPv4 or IPv6 record alike): two plain
// increments on the record the packet's lookup has just brought into the cache.
template <class Record>
inline void count_packet(Record& flow, std::size_t length) noexcept {
    ++flow.packets;
    flow.bytes += length;
}

template <class Derived, class Record, class Address>
class FlowTableCore {
public:
    using Id = std::uint32_t;  // slot number; 0 = none

    // Adds a flow (the caller filled its keys and state). Returns 0 when it may not, with
    // the reason in `refusal`: flow_table_full, host_flow_limit or embryonic_limit. May
    // evict a flow to make room (see above).
    Id insert(const Record& flow, Instant now, DropReason& refusal);
    Id insert(const Record& flow, Instant now) {
        DropReason ignored;
        return insert(flow, now, ignored);
    }
    // Room for a flow `host` is about to start, made before anything else it needs is
    // taken (IPv4: its mapping). none: a flow went; host_flow_limit: `host` is at its own
    // limit and nothing is evicted for it; flow_table_full: nothing could go.
    DropReason make_room_for_lan_flow(const Address& host, Instant now);
    // Ends the host's half-open or closing TCP flow (one it started) nearest its timeout, if
    // it has one among the oldest opening or closing flows: what a host at its own limit
    // gives up first.
    bool recycle_transitory_flow_of(const Address& host);

    Record& get(Id id) { return slots_[id]; }
    const Record& get(Id id) const { return slots_[id]; }
    Id id_of(const Record& flow) const { return Id(&flow - slots_.data()); }

    // The flow was active at `now` and is under `timeout_class` from now on.
    void touch(Record& flow, TimeoutClass timeout_class, Instant now) {
        // Replayed captures may run backwards by a little; never move activity back in time.
        if (now > flow.last_activity) flow.last_activity = now;
        // Already last on its list and not waiting for an answer (a busy flow): nothing to
        // move. Moving costs the records of both neighbours, two cache misses per packet
        // with a million flows. Inline, so that this, nearly every packet, costs no call.
        if (!flow.embryonic && timeout_class == flow.timeout_class && idle_tail_[list_of(flow)] == id_of(flow)) return;
        move_on_idle_lists(flow, timeout_class);
    }
    std::size_t expire_idle(Instant now);
    // Ends every flow the predicate selects (a closed mapping's or pinhole's flows); a
    // scan, for the control plane's rare changes, never for packets.
    std::size_t remove_if(const std::function<bool(const Record&)>& selected);
    // A part of remove_if, as for_each_from is of for_each: looks at the records from
    // `from` (1 to start) up to `max_records` of them, ends those selected (adding how
    // many flows went, linked ones included, to `ended`), and returns the record the next
    // part starts from, or 0 when the table is done. gatewayctl flows delete.
    Id remove_if_from(Id from, std::size_t max_records, const std::function<bool(const Record&)>& selected,
                      std::size_t& ended);
    void for_each(const std::function<void(const Record&)>& visit) const;
    // A part of for_each: visits the live flows in record order from record `from` (1 to
    // start) until `max_flows` were visited or 8 times as many records were looked at,
    // and returns the record the next part starts from, or 0 when the table is done.
    // gatewayctl copies a table of millions this way, one short hold of the engine lock
    // per part (control_flow_snapshot.hpp).
    Id for_each_from(Id from, std::size_t max_flows, const std::function<void(const Record&)>& visit) const;

    std::size_t size() const { return live_count_; }
    std::size_t capacity() const { return max_flows_; }
    std::uint64_t expired_total() const { return expired_total_; }
    std::uint64_t evicted_total() const { return evicted_total_; }
    std::size_t embryonic_count() const { return embryonic_count_; }
    // Flows `host` started, counted against flows_per_host.
    std::uint32_t flows_started_by(const Address& host) const { return flows_per_host_.count_of(host); }
    static constexpr std::size_t eviction_scan_depth = 1024;
    Instant timeout_of(TimeoutClass c) const { return timeouts_[std::size_t(c)]; }
    // nat.timeouts changed (reload): every flow, the live ones included, ends its class's
    // new timeout after its last activity, at once rather than from its next packet: no
    // flow stores a deadline of its own, and each idle list holds one class, still in
    // order of last activity. A flow idle longer than a new, shorter timeout ends at the
    // next expiry (a lookup refuses it before); a longer one keeps flows that would have ended.
    void set_timeouts(const NatTimeouts& timeouts) { timeouts_ = class_timeouts(timeouts); }
    // Whether the flow's time is up at `now` (it may not be reclaimed yet).
    bool is_expired(const Record& f, Instant now) const {
        return now >= f.last_activity + timeouts_[std::size_t(f.timeout_class)];
    }
    // How long the flow has before its idle timeout ends it, if no packet comes (0 when
    // its time is up). `f` may be a copy taken out of the table (gatewayctl flows).
    Instant idle_left(const Record& f, Instant now) const {
        Instant ends = f.last_activity + timeouts_[std::size_t(f.timeout_class)];
        return ends > now ? ends - now : Instant{0};
    }

protected:
    FlowTableCore(std::uint32_t max_flows, const NatTimeouts& timeouts, const FlowLimits& limits);

    // The live flow in slot `id` at `now`, or null (0, or expired: then it is reclaimed).
    Record* live_or_reclaimed(Id id, Instant now);
    std::size_t remove(Id id);  // how many went (a record may take linked ones with it)
    std::size_t records_memory_bytes() const {
        return slots_.capacity() * sizeof(Record) + flows_per_host_.memory_bytes();
    }
    Id high_water() const { return high_water_; }

    std::vector<Record, HugePageAllocator<Record>> slots_;  // max_flows_ + 1 records; slots_[0] unused

private:
    Derived& derived() { return static_cast<Derived&>(*this); }
    static std::size_t list_of(const Record& f) {
        IdleGroup group = f.embryonic                  ? IdleGroup::embryonic
                          : Derived::started_by_lan(f) ? IdleGroup::lan_started
                                                       : IdleGroup::other;
        return list_in(group, f.timeout_class);
    }
    void move_on_idle_lists(Record& flow, TimeoutClass timeout_class);
    bool make_room(bool for_embryonic);
    Id oldest_embryonic() const;
    Id oldest_started_by(const Address& host) const;
    Id oldest_of_all() const;
    Id take_free_slot();
    void idle_unlink(Id id);
    void idle_append(Id id);

    std::uint32_t max_flows_;
    ClassTimeouts timeouts_{};
    Id free_head_ = 0;   // slots given back, linked through idle_next
    Id high_water_ = 0;  // slots above it were never used
    // Idle lists: one per timeout class in each group. The flows LAN hosts started are
    // apart from the rest so that what a host gives up (recycle, eviction) is found among
    // the oldest few of its own kind: the gateway's own TIME_WAIT flows (UPnP control
    // connections by the thousand) once filled the scanned head of a shared list and hid
    // a busy host's flows from recycling.
    enum class IdleGroup : std::uint8_t { lan_started, other, embryonic, count_ };
    static constexpr std::size_t class_count = std::size_t(TimeoutClass::count_);
    static constexpr std::size_t list_count = std::size_t(IdleGroup::count_) * class_count;
    static constexpr std::size_t list_in(IdleGroup group, TimeoutClass c) {
        return std::size_t(group) * class_count + std::size_t(c);
    }
    std::array<Id, list_count> idle_head_{}, idle_tail_{};
    std::uint32_t max_flows_per_host_, max_embryonic_;
    BasicLanHostCounts<Address> flows_per_host_;
    std::size_t live_count_ = 0, embryonic_count_ = 0;
    std::uint64_t expired_total_ = 0, evicted_total_ = 0;
};

}  // namespace gw
