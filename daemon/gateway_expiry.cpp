#include "daemon/gateway_expiry.hpp"

// glibc first: <linux/in.h> then leaves struct in_addr and friends to it (libc-compat.h).
#include <netinet/in.h>

// pupnp's headers before libpcap's: pcap.h defines SOCKET, which UpnpInet.h typedefs.
#include "igd/pinhole_service.hpp"
#include "igd/port_mapping_service.hpp"
#include "daemon/engine_commands.hpp"
#include "daemon/gateway_control.hpp"
#include "daemon/packet_capture.hpp"

namespace gw {

EngineTally expire_on_time(const ExpiryOwners& owners, Instant now, bool idle_flows_due) {
    // Each lock-free until something of its own has ended; none with the engine lock held.
    if (owners.mapping_service) owners.mapping_service->expire_leases();
    if (owners.pinholes) owners.pinholes->expire();
    if (owners.control) owners.control->expire_timed_forwards(now);  // its own short hold
    // Taken before the hold: the queue's mutex is never waited for with the engine lock held.
    std::vector<EngineCommand> taken = owners.commands.take();
    // A capture whose count or time is reached is taken out of the slot in the hold (the
    // workers write to it under the lock), then flushed and closed after it.
    std::unique_ptr<PacketCapture> finished;
    EngineTally tally = owners.engine.with([&](PacketEngine& engine) {
        for (const auto& command : taken) apply_engine_command(engine, command);
        if (owners.captures) finished = owners.captures->take_due(now);
        if (idle_flows_due) engine.expire_idle(now);
        return EngineTally{engine.counters(), engine.flows().size(), engine.mappings().size()};
    });
    if (finished) {
        std::string reason = CaptureSlot::due_reason(*finished);
        owners.captures->keep_finished(std::move(finished), std::move(reason));
    }
    return tally;
}

void apply_queued_commands(LockedEngine& engine, EngineCommandQueue& commands) {
    std::vector<EngineCommand> taken = commands.take();
    if (taken.empty()) return;
    engine.with([&](PacketEngine& e) {
        for (const auto& command : taken) apply_engine_command(e, command);
    });
}

}  // namespace gw
