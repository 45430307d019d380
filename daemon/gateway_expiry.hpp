// What the main loop closes on time, once a turn: ended leases, pinholes and timed
// forwards through their owners, then the engine's own work in one short hold of its
// lock. The order is the lock order (docs/architecture.md, Threads and locks): each
// owner takes its own mutex alone and queues its engine commands, and the engine lock
// comes last, alone, so a service that holds its mutex through a slow journal fsync
// delays this turn but never a packet batch.
#pragma once

#include <cstddef>

#include "daemon/locked_engine.hpp"
#include "igd/engine_command_queue.hpp"

namespace gw {

class CaptureSlot;
class GatewayControl;
class PinholeService;
class PortMappingService;

// Who owns what expires; null: not running. The engine and the queue are always there.
struct ExpiryOwners {
    LockedEngine& engine;
    EngineCommandQueue& commands;
    PortMappingService* mapping_service = nullptr;
    PinholeService* pinholes = nullptr;  // the IPv6 pinholes of every front end
    GatewayControl* control = nullptr;
    CaptureSlot* captures = nullptr;
};

// The engine's figures as the expiry hold left them, for the status line and the
// WANCommonInterfaceConfig counters.
struct EngineTally {
    EngineCounters counters;
    std::size_t flows = 0;
    std::size_t nat_mappings = 0;
};

// One turn at `now`. `idle_flows_due`: the engine's idle flows are reclaimed too (the
// loop does it once a second). Every engine command queued so far, the owners' closings
// included, is applied before it returns, so an ended lease closes before the next batch.
EngineTally expire_on_time(const ExpiryOwners& owners, Instant now, bool idle_flows_due);

// The commands waiting in `commands`, applied in one hold of the engine lock.
void apply_queued_commands(LockedEngine& engine, EngineCommandQueue& commands);

}  // namespace gw
