// The definitions of FlowTableCore (flow_table_core.hpp), included only where a family's
// table instantiates it (flow_table.cpp, ipv6_flow_table.cpp).
#pragma once

#include <algorithm>
#include <optional>

#include "firewall/flow_table_core.hpp"

namespace gw {

template <class D, class R, class A>
FlowTableCore<D, R, A>::FlowTableCore(std::uint32_t max_flows, const NatTimeouts& timeouts, const FlowLimits& limits)
    : slots_(std::size_t(max_flows) + 1),
      max_flows_(max_flows),
      timeouts_(class_timeouts(timeouts)),
      max_flows_per_host_(std::min(limits.flows_per_host, max_flows)),
      max_embryonic_(std::min(limits.embryonic_inbound, max_flows)),
      flows_per_host_(std::min(BasicLanHostCounts<A>::default_max_hosts, max_flows)) {}

template <class D, class R, class A>
R* FlowTableCore<D, R, A>::live_or_reclaimed(Id id, Instant now) {
    if (id == 0) return nullptr;
    if (is_expired(slots_[id], now)) {
        expired_total_ += remove(id);
        return nullptr;
    }
    return &slots_[id];
}

template <class D, class R, class A>
typename FlowTableCore<D, R, A>::Id FlowTableCore<D, R, A>::take_free_slot() {
    if (free_head_ != 0) {
        Id id = free_head_;
        free_head_ = slots_[id].idle_next;
        return id;
    }
    return ++high_water_;
}

template <class D, class R, class A>
typename FlowTableCore<D, R, A>::Id FlowTableCore<D, R, A>::insert(const R& flow, Instant now, DropReason& refusal) {
    if (live_count_ >= max_flows_) expire_idle(now);
    bool embryonic = D::is_embryonic(flow);
    if (embryonic && embryonic_count_ >= max_embryonic_) {
        refusal = DropReason::embryonic_limit;
        return 0;
    }
    bool counted = D::started_by_lan(flow);
    if (counted && !flows_per_host_.add(D::host_of(flow), max_flows_per_host_) &&
        !(recycle_transitory_flow_of(D::host_of(flow)) && flows_per_host_.add(D::host_of(flow), max_flows_per_host_))) {
        refusal = DropReason::host_flow_limit;
        return 0;
    }
    if (live_count_ >= max_flows_ && !make_room(embryonic)) {
        if (counted) flows_per_host_.remove(D::host_of(flow));
        refusal = DropReason::flow_table_full;
        return 0;
    }
    Id id = take_free_slot();
    R& f = slots_[id];
    f = flow;
    f.in_use = true;
    f.embryonic = embryonic;
    f.last_activity = now;
    f.idle_prev = f.idle_next = 0;
    derived().index(id);
    idle_append(id);
    ++live_count_;
    if (embryonic) ++embryonic_count_;
    refusal = DropReason::none;
    return id;
}

template <class D, class R, class A>
DropReason FlowTableCore<D, R, A>::make_room_for_lan_flow(const A& host, Instant now) {
    if (flows_per_host_.count_of(host) >= max_flows_per_host_)
        return recycle_transitory_flow_of(host) ? DropReason::none : DropReason::host_flow_limit;
    std::size_t before = live_count_;
    expire_idle(now);
    if (live_count_ < before) return DropReason::none;
    return live_count_ >= max_flows_ && make_room(false) ? DropReason::none : DropReason::flow_table_full;
}

template <class D, class R, class A>
bool FlowTableCore<D, R, A>::make_room(bool for_embryonic) {
    Id victim = oldest_embryonic();
    if (victim == 0 && !for_embryonic) {
        std::optional<A> busiest = flows_per_host_.busiest();
        if (busiest) victim = oldest_started_by(*busiest);
        if (victim == 0) victim = oldest_of_all();
    }
    if (victim == 0) return false;
    evicted_total_ += remove(victim);
    return true;
}

// A host at its own limit that opens and closes connections fast (a crawler, a speed test)
// holds most of its flows in TIME_WAIT or half-open: its TCP flow nearest its idle timeout
// among the oldest of each list, opening and closing, makes room, as conntrack's early drop
// would, and the host is refused only when it holds that many live ones. Its other hosts'
// flows are never touched. (With tcp_opening == tcp_closing this is the oldest of the two,
// as when they were one transitory list.)
template <class D, class R, class A>
bool FlowTableCore<D, R, A>::recycle_transitory_flow_of(const A& host) {
    Id victim = 0;
    Instant victim_ends{};
    for (TimeoutClass c : {TimeoutClass::tcp_closing, TimeoutClass::tcp_opening}) {
        std::size_t seen = 0;
        Id head = idle_head_[list_in(IdleGroup::lan_started, c)];
        for (Id id = head; id != 0 && seen < eviction_scan_depth; id = slots_[id].idle_next, ++seen) {
            if (!(D::host_of(slots_[id]) == host)) continue;
            Instant ends = slots_[id].last_activity + timeout_of(c);
            if (victim == 0 || ends < victim_ends) victim = id, victim_ends = ends;
            break;
        }
    }
    if (victim == 0) return false;
    evicted_total_ += remove(victim);
    return true;
}

template <class D, class R, class A>
typename FlowTableCore<D, R, A>::Id FlowTableCore<D, R, A>::oldest_embryonic() const {
    Id oldest = 0;
    for (std::size_t c = 0; c < class_count; ++c) {
        Id head = idle_head_[list_in(IdleGroup::embryonic, TimeoutClass(c))];
        if (head != 0 && (oldest == 0 || slots_[head].last_activity < slots_[oldest].last_activity)) oldest = head;
    }
    return oldest;
}

template <class D, class R, class A>
typename FlowTableCore<D, R, A>::Id FlowTableCore<D, R, A>::oldest_started_by(const A& host) const {
    Id oldest = 0;
    for (std::size_t c = 0; c < class_count; ++c) {
        std::size_t seen = 0;
        Id head = idle_head_[list_in(IdleGroup::lan_started, TimeoutClass(c))];
        for (Id id = head; id != 0 && seen < eviction_scan_depth; id = slots_[id].idle_next, ++seen) {
            const R& f = slots_[id];
            if (!(D::host_of(f) == host)) continue;
            if (oldest == 0 || f.last_activity < slots_[oldest].last_activity) oldest = id;
            break;
        }
    }
    return oldest;
}

template <class D, class R, class A>
typename FlowTableCore<D, R, A>::Id FlowTableCore<D, R, A>::oldest_of_all() const {
    Id oldest = 0;
    for (Id head : idle_head_)
        if (head != 0 && (oldest == 0 || slots_[head].last_activity < slots_[oldest].last_activity)) oldest = head;
    return oldest;
}

// touch()'s slow path: the flow changes list (another timeout class, or answered at last)
// or is not last on its own.
template <class D, class R, class A>
void FlowTableCore<D, R, A>::move_on_idle_lists(R& flow, TimeoutClass timeout_class) {
    Id id = id_of(flow);
    bool embryonic = flow.embryonic && D::is_embryonic(flow);  // once answered, never again
    if (timeout_class == flow.timeout_class && embryonic == flow.embryonic && idle_tail_[list_of(flow)] == id) return;
    idle_unlink(id);
    flow.timeout_class = timeout_class;
    if (flow.embryonic && !embryonic) --embryonic_count_;
    flow.embryonic = embryonic;
    idle_append(id);
}

template <class D, class R, class A>
std::size_t FlowTableCore<D, R, A>::expire_idle(Instant now) {
    std::size_t reclaimed = 0;
    for (std::size_t list = 0; list < list_count; ++list) {
        while (idle_head_[list] != 0 && is_expired(slots_[idle_head_[list]], now)) {
            expired_total_ += remove(idle_head_[list]);
            ++reclaimed;
        }
    }
    return reclaimed;
}

template <class D, class R, class A>
std::size_t FlowTableCore<D, R, A>::remove_if(const std::function<bool(const R&)>& selected) {
    std::size_t removed = 0;
    for (Id id = 1; id <= high_water_; ++id) {
        if (slots_[id].in_use && selected(slots_[id])) {
            expired_total_ += remove(id);
            ++removed;
        }
    }
    return removed;
}

template <class D, class R, class A>
typename FlowTableCore<D, R, A>::Id FlowTableCore<D, R, A>::remove_if_from(
    Id from, std::size_t max_records, const std::function<bool(const R&)>& selected, std::size_t& ended) {
    std::size_t looked_at = 0;
    for (Id id = std::max<Id>(from, 1); id <= high_water_; ++id, ++looked_at) {
        if (looked_at == max_records) return id;
        if (slots_[id].in_use && selected(slots_[id])) {
            // Counted as expired, as every flow the control plane ends (remove_if).
            std::size_t gone = remove(id);
            expired_total_ += gone;
            ended += gone;
        }
    }
    return 0;
}

template <class D, class R, class A>
void FlowTableCore<D, R, A>::for_each(const std::function<void(const R&)>& visit) const {
    for (Id id = 1; id <= high_water_; ++id)
        if (slots_[id].in_use) visit(slots_[id]);
}

template <class D, class R, class A>
typename FlowTableCore<D, R, A>::Id FlowTableCore<D, R, A>::for_each_from(
    Id from, std::size_t max_flows, const std::function<void(const R&)>& visit) const {
    std::size_t visited = 0, looked_at = 0;
    const std::size_t max_looked_at = 8 * max_flows;
    for (Id id = std::max<Id>(from, 1); id <= high_water_; ++id) {
        if (visited == max_flows || looked_at == max_looked_at) return id;
        ++looked_at;
        if (slots_[id].in_use) {
            visit(slots_[id]);
            ++visited;
        }
    }
    return 0;
}

template <class D, class R, class A>
std::size_t FlowTableCore<D, R, A>::remove(Id id) {
    std::size_t removed = 1 + derived().end_links(id);
    R& f = slots_[id];
    idle_unlink(id);
    derived().unindex(id);
    if (D::started_by_lan(f)) flows_per_host_.remove(D::host_of(f));
    if (f.embryonic) --embryonic_count_;
    f.in_use = false;
    f.embryonic = false;
    f.idle_next = free_head_;
    free_head_ = id;
    --live_count_;
    return removed;
}

template <class D, class R, class A>
void FlowTableCore<D, R, A>::idle_unlink(Id id) {
    R& f = slots_[id];
    std::size_t c = list_of(f);
    if (f.idle_prev != 0) slots_[f.idle_prev].idle_next = f.idle_next;
    else idle_head_[c] = f.idle_next;
    if (f.idle_next != 0) slots_[f.idle_next].idle_prev = f.idle_prev;
    else idle_tail_[c] = f.idle_prev;
    f.idle_prev = f.idle_next = 0;
}

template <class D, class R, class A>
void FlowTableCore<D, R, A>::idle_append(Id id) {
    R& f = slots_[id];
    std::size_t c = list_of(f);
    f.idle_prev = idle_tail_[c];
    f.idle_next = 0;
    if (idle_tail_[c] != 0) slots_[idle_tail_[c]].idle_next = id;
    else idle_head_[c] = id;
    idle_tail_[c] = id;
}

}  // namespace gw
