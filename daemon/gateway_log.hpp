// What the gateway says about itself in the log: the start lines (what it translates,
// with what; the IPv6 warnings) and the summary at stop, and the WAN counters it
// publishes for WANCommonInterfaceConfig.
#pragma once

#include <memory>
#include <vector>

#include "config/gateway_config.hpp"
#include "firewall/packet_engine.hpp"

namespace gw {

class QueueWorker;
class RejectSender;
struct PortControlCounts;
struct TrafficCounters;

// The start lines: interfaces, networks, ports, filtering, rules, queues; IPv6's.
void log_start(const GatewayConfig& config, const EngineSetup& setup);
// At stop: what crossed, what was dropped and why, per rule; and NAT-PMP/PCP's answers.
void log_summary(const PacketEngine& engine, const std::vector<std::unique_ptr<QueueWorker>>& workers,
                 const RejectSender& rejects);
void log_summary(const PortControlCounts& c);
// WANCommonInterfaceConfig counts the WAN side: sent = what left translated.
void publish(const EngineCounters& c, TrafficCounters& counters);

}  // namespace gw
