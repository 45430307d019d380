#include "daemon/pcp_handler.hpp"

#include <memory>
#include <string>
#include <utility>

#include "base/log.hpp"
#include "igd/engine_clock.hpp"
#include "igd/refusal_log.hpp"

namespace gw {
PcpRequestHandler make_pcp_handler(Ipv4Address server_address, PcpConfig config,
                                   OutboundMappingLookup outbound_mapping, PinholeOpener open_pinhole) {
    // Only the server's thread calls the handler: the log state needs no lock.
    auto refusals = std::make_shared<RefusalLog>();
    return [=](std::span<const std::uint8_t> request, Endpoint client, const PortControlContext& port_control,
               MappingPolicy& policy, Instant now) {
        PcpRequestContext context;
        context.source = client;
        context.server_address = server_address;
        context.external_address = port_control.external_address;
        context.epoch_seconds = port_control.epoch_seconds;
        context.config = config;
        context.outbound_mapping = outbound_mapping;
        context.open_pinhole = open_pinhole;
        PcpAnswer answer = answer_pcp(request, context, policy, now);

        std::string line = "PCP: " + to_string(client) + ": " + answer.reason;
        if (!answer.result)
            refusals->write(line + " (not answered)", now);
        else if (*answer.result != PcpResult::success)
            refusals->write(line + " -> " + std::string(pcp_result_name(*answer.result)), now);
        else if (!answer.changes.empty())
            log::info(line);
        else
            log::debug(line);
        return PortControlAnswer{std::move(answer.response), std::move(answer.changes), answer.result};
    };
}

OutboundMappingLookup engine_outbound_mapping(const PacketEngine& engine, std::mutex& engine_lock) {
    return [&engine, &engine_lock](Protocol protocol, Endpoint internal, Endpoint) -> std::optional<Port> {
        std::unique_lock lock(engine_lock, std::try_to_lock);
        if (!lock.owns_lock()) return std::nullopt;
        const Mapping* mapping = engine.mappings().find_by_internal(protocol, internal);
        if (!mapping) return std::nullopt;
        return mapping->external;
    };
}

}  // namespace gw
