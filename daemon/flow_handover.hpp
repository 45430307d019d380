// The flow table handed from one gatewayd to the next (firewall/flow_snapshot.hpp has
// the format): written at a graceful stop, once no packet is decided any more, and read
// back at the next start before the first packet, then deleted. It lives in the state
// directory, beside the UPnP lease file (the directory of upnp.lease_file, the unit's
// StateDirectory=), so an upgrade that keeps the config keeps the handover.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "config/gateway_config.hpp"
#include "firewall/packet_engine.hpp"

namespace gw {

// The directory of upnp.lease_file: where gatewayd keeps what outlives it.
std::string state_directory(const GatewayConfig& config);
std::string flow_snapshot_path(const GatewayConfig& config);
// The IPv6 flows' snapshot, beside the IPv4 one at `path` (flow_snapshot.hpp): PATH.ipv6.
std::string ipv6_flow_snapshot_path(const std::string& path);
// gatewayctl's runtime changes (control_state.hpp), beside the flow snapshot.
std::string control_state_path(const GatewayConfig& config);

// A snapshot older than this is not a restart but a gateway that was off: its flows'
// peers have long given up, and the clock may have been set since.
inline constexpr std::int64_t flow_snapshot_max_age_ms = 10 * 60 * 1000;

std::int64_t wall_clock_ms();

struct FlowHandoverSaved {
    bool written = false;
    std::size_t flows = 0;
    std::size_t established_tcp = 0;  // connections a gap that answers with RSTs would kill
    std::size_t ipv6_flows = 0;
};
// Logs what it did; a write failure is logged, never thrown (the stop goes on). The IPv6
// flows go to ipv6_flow_snapshot_path(path), and come back from it, the same way.
FlowHandoverSaved save_flow_snapshot(const std::string& path, const PacketEngine& engine, Instant now,
                                     std::int64_t wall_now_ms);

// Restores the snapshot at `path` if there is a recent, sound one, logs how many flows
// came back and how many were dropped and why, and deletes the file whatever it held
// (a damaged one would be refused again at every start).
PacketEngine::RestoreCounts restore_flow_snapshot(const std::string& path, PacketEngine& engine, Instant now,
                                                  std::int64_t wall_now_ms);

}  // namespace gw
