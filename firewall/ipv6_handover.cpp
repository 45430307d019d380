// The IPv6 flow table across a graceful restart: Ipv6Firewall::save_flows and restore_flows
// (flow_snapshot.hpp has the format, the daemon the file), as engine_handover.cpp does for
// IPv4. No NAT, so nothing but the flow itself has to be taken again.
#include <algorithm>

#include "firewall/ipv6_firewall.hpp"

namespace gw {

std::vector<SavedIpv6Flow> Ipv6Firewall::save_flows(Instant now) const {
    std::vector<SavedIpv6Flow> saved;
    saved.reserve(flows_.size());
    flows_.for_each([&](const Ipv6Flow& f) {
        auto left = f.last_activity + flows_.timeout_of(f.timeout_class) - now;
        if (left.count() <= 0) return;  // expired, not reclaimed yet
        SavedIpv6Flow s;
        s.key = f.key;
        s.origin = f.origin;
        s.timeout_class = f.timeout_class;
        s.reply_seen = f.reply_seen;
        s.pinhole = f.pinhole;
        s.idle_left_ms = std::uint32_t(std::min<std::int64_t>(left.count(), UINT32_MAX));
        if (f.key.protocol == ipv6_protocol::tcp) s.tcp = f.tcp.saved();
        saved.push_back(s);
    });
    return saved;
}

FlowRestoreCounts Ipv6Firewall::restore_flows(const std::vector<SavedIpv6Flow>& flows,
                                              std::chrono::milliseconds downtime, Instant now) {
    FlowRestoreCounts counts;
    auto class_of = [](const SavedIpv6Flow& s) {
        return saved_timeout_class(s.timeout_class, s.key.protocol == ipv6_protocol::tcp ? Protocol::tcp : Protocol::udp,
                                   s.tcp);
    };
    auto idle_left = [&](const SavedIpv6Flow& s) {
        // The timeouts may have changed across an upgrade: never more than the new one.
        auto left = std::chrono::milliseconds(s.idle_left_ms) - downtime;
        return std::min<std::chrono::milliseconds>(left, flows_.timeout_of(class_of(s)));
    };
    // Oldest activity first, so that the idle lists stay ordered.
    std::vector<std::uint32_t> order;
    for (std::uint32_t i = 0; i < flows.size(); ++i) {
        if (idle_left(flows[i]).count() <= 0) ++counts.expired;
        else order.push_back(i);
    }
    std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return idle_left(flows[a]) < idle_left(flows[b]); });
    for (auto i : order) {
        const SavedIpv6Flow& s = flows[i];
        Ipv6Flow f;
        f.key = s.key;
        f.origin = s.origin;
        f.timeout_class = class_of(s);
        f.reply_seen = s.reply_seen;
        f.pinhole = s.pinhole;
        std::optional<TcpTracker> tracker;
        if (s.key.protocol == ipv6_protocol::tcp) tracker = TcpTracker::restored(s.tcp);
        if (flows_.find(s.key, now) || (s.key.protocol == ipv6_protocol::tcp && !tracker)) {
            ++counts.refused;  // a duplicate in a damaged snapshot
            continue;
        }
        if (tracker) f.tcp = *tracker;
        Instant last_activity = now - (flows_.timeout_of(f.timeout_class) - idle_left(s));
        if (flows_.insert(f, last_activity) == 0) ++counts.refused;
        else ++counts.restored;
    }
    return counts;
}

}  // namespace gw
