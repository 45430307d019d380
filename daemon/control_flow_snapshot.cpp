#include "daemon/control_flow_snapshot.hpp"

#include <algorithm>

namespace gw {

bool FlowFilter::matches(const Flow& f) const {
    if (protocol && f.protocol != *protocol) return false;
    if (host && f.internal.address != *host && f.remote.address != *host) return false;
    if (port && f.internal.port.value != *port && f.external.value != *port && f.remote.port.value != *port)
        return false;
    return true;
}

std::vector<Flow> snapshot_flows(const LockedEngine& engine, const FlowFilter& filter, std::size_t per_hold) {
    std::vector<Flow> copied;
    FlowId next = 1;
    do {
        // Room made outside the hold (doubling, so the whole copy stays linear): a part
        // never allocates with the lock held.
        if (copied.capacity() < copied.size() + per_hold)
            copied.reserve(std::max(2 * copied.capacity(), copied.size() + per_hold));
        next = engine.with([&](const PacketEngine& e) {
            return e.flows().for_each_from(next, per_hold, [&](const Flow& f) {
                if (filter.matches(f)) copied.push_back(f);
            });
        });
    } while (next != 0);
    return copied;
}

}  // namespace gw
