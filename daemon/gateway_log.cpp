#include "daemon/gateway_log.hpp"

#include <string>

#include "base/log.hpp"
#include "daemon/gateway_packet_path.hpp"
#include "daemon/port_control_server.hpp"
#include "daemon/queue_worker.hpp"
#include "daemon/reject_sender.hpp"
#include "igd/internet_gateway_device.hpp"
#include "igd/natpmp_message.hpp"

namespace gw {

void log_start(const GatewayConfig& config, const EngineSetup& setup) {
    const NatConfig& nat = setup.nat;
    std::string lan_networks;
    for (const auto& n : setup.firewall.lan_networks) lan_networks += (lan_networks.empty() ? "" : ",") + n.to_string();
    log::info("translating " + config.lan_interface + " (" + lan_networks + ") -> " + config.wan_interface + " as " +
              nat.wan_address.to_string() + ", ports " + nat.port_range.to_string() + ", filtering " +
              std::string(filtering_behaviour_name(setup.firewall.filtering)) + ", " +
              std::to_string(setup.firewall.rules.size()) + " rules, " + std::to_string(setup.firewall.forwards.size()) +
              " forwards, " + queue_range_text(config));
    if (const Ipv6FirewallConfig& v6 = setup.firewall.ipv6; v6.enabled()) {
        std::string prefixes;
        for (const auto& n : v6.lan_networks) prefixes += (prefixes.empty() ? "" : ",") + n.to_string();
        log::info("IPv6: routing " + config.lan_interface + " (" + prefixes + ") <-> " + config.wan_interface +
                  " without NAT, stateful, inbound policy " + std::string(rule_action_name(setup.firewall.policies.inbound)) +
                  ", room for " + std::to_string(v6.max_flows) + " flows");
        // No NAT stands in front of IPv6: an address-less inbound accept rule written with
        // forwarded IPv4 ports in mind opens its ports on every LAN host.
        for (const FirewallRule& rule : setup.firewall.rules)
            if (rule.direction == RuleDirection::inbound && rule.action == RuleAction::accept &&
                rule.sources.empty() && rule.destinations.empty() && rule.ipv6_destinations.empty())
                log::warning("rule " + rule.name + " accepts inbound IPv6 to every LAN host (it names no "
                             "destinations); give it ipv6 destinations or IPv4 networks to narrow it");
    }
}

void log_summary(const PacketEngine& engine, const std::vector<std::unique_ptr<QueueWorker>>& workers,
                 const RejectSender& rejects) {
    const auto c = engine.counters();
    std::uint64_t enobufs = 0;
    for (const auto& w : workers) enobufs += w->socket().counters().enobufs.load();
    log::info("forwarded " + std::to_string(c.outbound_packets) + " packets out, " + std::to_string(c.inbound_packets) +
              " in; " + std::to_string(c.local_packets) + " for the gateway itself; " +
              std::to_string(c.drops.total()) + " dropped; " + std::to_string(c.flows_created) + " flows created, " +
              std::to_string(engine.flows().size()) + " live; " + std::to_string(c.mappings_created) +
              " mappings created; " + std::to_string(rejects.sent()) + " reject answers (" +
              std::to_string(rejects.rate_limited()) + " held back by the rate limit); queue overflows (ENOBUFS) " +
              std::to_string(enobufs));
    if (const Ipv6Firewall& v6 = engine.ipv6(); v6.config().enabled())
        log::info("IPv6: forwarded " + std::to_string(v6.counters().outbound_packets) + " packets out, " +
                  std::to_string(v6.counters().inbound_packets) + " in; " + std::to_string(v6.counters().flows_created) +
                  " flows created (" + std::to_string(v6.counters().pinhole_flows) + " through pinholes), " +
                  std::to_string(v6.flows().size()) + " live; " + std::to_string(v6.pinholes().size()) +
                  " pinholes open (IPv6 drops are counted with the reasons below)");
    for (std::size_t i = 1; i < drop_reason_count; ++i) {
        auto reason = DropReason(i);
        if (c.drops[reason] > 0)
            log::info("  dropped " + std::string(drop_reason_name(reason)) + ": " + std::to_string(c.drops[reason]));
    }
    for (const auto& rule : engine.rules().counters())
        log::info("  rule " + std::string(rule.name) + ": matched " + std::to_string(rule.matched) +
                  ", over its rate limit " + std::to_string(rule.rate_limited));
}

void log_summary(const PortControlCounts& c) {
    auto refused = c.natpmp_results[std::size_t(NatPmpResult::not_authorized)] +
                   c.natpmp_results[std::size_t(NatPmpResult::network_failure)] +
                   c.natpmp_results[std::size_t(NatPmpResult::out_of_resources)];
    log::info("NAT-PMP/PCP: " + std::to_string(c.natpmp_requests) + " NAT-PMP requests (" +
              std::to_string(c.natpmp_results[std::size_t(NatPmpResult::success)]) + " successful, " +
              std::to_string(refused) + " refused, " + std::to_string(c.natpmp_ignored) + " ignored), " +
              std::to_string(c.pcp_requests) + " PCP requests (" +
              std::to_string(c.pcp_results[std::size_t(PcpResult::success)]) + " successful, " +
              std::to_string(c.pcp_dropped) + " dropped), " + std::to_string(c.unsupported_version) +
              " unsupported versions, " + std::to_string(c.outside_lan) + " from outside the LAN, " +
              std::to_string(c.announcements) + " announcements");
}

void publish(const EngineCounters& c, TrafficCounters& counters) {
    // WANCommonInterfaceConfig counts the WAN side: sent = what left translated.
    counters.bytes_sent = c.outbound_bytes;
    counters.bytes_received = c.inbound_bytes;
    counters.packets_sent = c.outbound_packets;
    counters.packets_received = c.inbound_packets;
}

}  // namespace gw
