// Applies what the control plane asked of the packet path (igd/engine_command_queue.hpp)
// to the engine: port mappings and IPv6 pinholes. Called by the main loop with the
// engine lock held, between batches.
#pragma once

#include "firewall/packet_engine.hpp"
#include "igd/engine_command_queue.hpp"

namespace gw {

// Never throws for a command's content; a QueryPinholePackets is always answered (the
// asking thread waits on its promise): the packet count, or nullopt for an unknown id.
void apply_engine_command(PacketEngine& engine, const EngineCommand& command);

}  // namespace gw
