// The flow table across a graceful restart: PacketEngine::save_flows and restore_flows
// (flow_snapshot.hpp has the format, the daemon the file).
#include <algorithm>
#include <unordered_map>

#include "packet_engine.hpp"

namespace gw {
namespace {

SavedFlow saved_from(const Flow& f, std::uint32_t idle_left_ms) {
    SavedFlow s;
    s.protocol = f.protocol;
    s.origin = f.origin;
    s.timeout_class = f.timeout_class;
    s.reply_seen = f.reply_seen;
    s.holds_mapping = f.mapping != 0;
    s.internal = f.internal;
    s.remote = f.remote;
    s.external = f.external;
    s.idle_left_ms = idle_left_ms;
    if (f.protocol == Protocol::tcp) s.tcp = f.tcp.saved();
    return s;
}

}  // namespace

std::vector<SavedFlow> PacketEngine::save_flows(Instant now) const {
    struct Entry {
        SavedFlow saved;
        FlowId id, peer;
    };
    std::vector<Entry> entries;
    flows_.for_each([&](const Flow& f) {
        auto left = f.last_activity + flows_.timeout_of(f.timeout_class) - now;
        if (left.count() <= 0) return;  // expired, not reclaimed yet
        // A flow holds the mapping of its own internal endpoint on its own external port
        // (every insert in engine_*.cpp): that pair is all the next process needs.
        if (f.mapping != 0) {
            const Mapping& m = mappings_.get(f.mapping);
            if (m.internal != f.internal || m.external != f.external) return;
        }
        auto left_ms = std::uint32_t(std::min<std::int64_t>(left.count(), UINT32_MAX));
        entries.push_back({saved_from(f, left_ms), flows_.id_of(f), f.peer});
    });
    std::unordered_map<FlowId, std::uint32_t> position_of;
    for (std::uint32_t i = 0; i < entries.size(); ++i) position_of[entries[i].id] = i;
    // A hairpin flow whose other half is not saved would outlive its link: leave it out.
    std::erase_if(entries, [&](const Entry& e) { return e.peer != 0 && !position_of.contains(e.peer); });
    position_of.clear();
    for (std::uint32_t i = 0; i < entries.size(); ++i) position_of[entries[i].id] = i;
    std::vector<SavedFlow> saved;
    saved.reserve(entries.size());
    for (auto& e : entries) {
        if (e.peer != 0) e.saved.peer = position_of[e.peer] + 1;
        saved.push_back(e.saved);
    }
    return saved;
}

PacketEngine::RestoreCounts PacketEngine::restore_flows(const std::vector<SavedFlow>& flows,
                                                        std::chrono::milliseconds downtime, Instant now) {
    RestoreCounts counts;
    auto class_of = [](const SavedFlow& s) { return saved_timeout_class(s.timeout_class, s.protocol, s.tcp); };
    auto idle_left = [&](const SavedFlow& s) {
        // The timeouts may have changed across an upgrade: never more than the new one.
        auto left = std::chrono::milliseconds(s.idle_left_ms) - downtime;
        return std::min<std::chrono::milliseconds>(left, flows_.timeout_of(class_of(s)));
    };
    // Oldest activity first, so that the idle lists stay ordered (FlowTable::insert_restored).
    std::vector<std::uint32_t> order;
    for (std::uint32_t i = 0; i < flows.size(); ++i) {
        const SavedFlow& s = flows[i];
        if (s.peer != 0 && s.peer - 1 < i) continue;  // the pair goes in with its first half
        bool expired = idle_left(s).count() <= 0 || (s.peer != 0 && idle_left(flows[s.peer - 1]).count() <= 0);
        if (expired) counts.expired += s.peer != 0 ? 2 : 1;
        else order.push_back(i);
    }
    std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return idle_left(flows[a]) < idle_left(flows[b]); });

    // One flow back in the table, holding its mapping on its old port; 0 when refused.
    auto put_back = [&](const SavedFlow& s) -> FlowId {
        if (flows_.find_by_internal(s.protocol, s.internal, s.remote, now) ||
            flows_.find_by_external(s.protocol, s.external, s.remote, now))
            return 0;  // a duplicate in a damaged snapshot
        Flow f;
        f.protocol = s.protocol;
        f.origin = s.origin;
        f.timeout_class = s.timeout_class;
        f.reply_seen = s.reply_seen;
        f.internal = s.internal;
        f.remote = s.remote;
        f.external = s.external;
        if (s.protocol == Protocol::tcp) {
            auto tracker = TcpTracker::restored(s.tcp);
            if (!tracker) return 0;
            f.tcp = *tracker;
        }
        f.timeout_class = class_of(s);
        if (s.holds_mapping) {
            f.mapping = mappings_.acquire_at(s.protocol, s.internal, s.external).id;
            if (f.mapping == 0) return 0;
        }
        Instant last_activity = now - (flows_.timeout_of(class_of(s)) - idle_left(s));
        FlowId id = flows_.insert_restored(f, last_activity);
        if (id == 0 && f.mapping != 0) mappings_.release(f.mapping);
        return id;
    };
    for (auto i : order) {
        const SavedFlow& s = flows[i];
        FlowId a = put_back(s);
        if (s.peer == 0) {
            a != 0 ? ++counts.restored : ++counts.refused;
            continue;
        }
        FlowId b = a == 0 ? 0 : put_back(flows[s.peer - 1]);
        if (b == 0) {
            // A pair lives and dies together: without its other half, the first goes too.
            if (a != 0) flows_.remove_if([&](const Flow& f) { return flows_.id_of(f) == a; });
            counts.refused += 2;
            continue;
        }
        flows_.link(a, b);
        counts.restored += 2;
    }
    return counts;
}

}  // namespace gw
