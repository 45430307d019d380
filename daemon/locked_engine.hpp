// The packet engine and the one lock around it. The queue workers take the lock once per
// batch (queue_worker.hpp, through mutex()); everything else reaches the engine through
// with(): a short hold that copies what it needs out of the engine or carries out an
// engine change, and nothing else.
//
// Lock order (docs/architecture.md, Threads and locks): the engine lock is the last one
// taken. With it held nobody takes a service's mutex, builds JSON, writes a file or calls
// pupnp, so a slow disk, a slow UPnP event or a big gatewayctl answer stalls only the
// thread that waits for it, never the packets.
#pragma once

#include <mutex>
#include <utility>

#include "firewall/packet_engine.hpp"

namespace gw {

class LockedEngine {
public:
    explicit LockedEngine(PacketEngine& engine) : engine_(engine) {}
    LockedEngine(const LockedEngine&) = delete;
    LockedEngine& operator=(const LockedEngine&) = delete;

    // Runs `work(PacketEngine&)` with the lock held and returns its result by value (a
    // reference into the engine must not outlive the hold). `work` must not block, take
    // another lock (the log's aside), or do I/O.
    template <class Work>
    auto with(Work&& work) {
        std::lock_guard lock(mutex_);
        return std::forward<Work>(work)(engine_);
    }
    template <class Work>
    auto with(Work&& work) const {
        std::lock_guard lock(mutex_);
        return std::forward<Work>(work)(std::as_const(engine_));
    }

    // For the queue workers' per-batch hold and PCP's try_lock (pcp_handler.hpp).
    std::mutex& mutex() const { return mutex_; }

private:
    PacketEngine& engine_;
    mutable std::mutex mutex_;
};

}  // namespace gw
