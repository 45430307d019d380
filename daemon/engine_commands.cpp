#include "engine_commands.hpp"

#include <string>

#include "base/log.hpp"

namespace gw {

void apply_engine_command(PacketEngine& engine, const EngineCommand& command) {
    if (const auto* open = std::get_if<OpenPortMapping>(&command)) {
        // Only an opening decided before a static forward took its port: the mapping
        // service closed it everywhere then (use_static_forwards), and its close follows.
        if (!engine.open_port_mapping(open->mapping))
            log::debug("port mapping " + std::to_string(open->mapping.external.value) +
                       " not opened: a static forward took the port while it waited in the queue");
    } else if (const auto* close = std::get_if<ClosePortMapping>(&command)) {
        engine.close_port_mapping(close->protocol, close->external);
    } else if (const auto* open_pinhole = std::get_if<OpenPinhole>(&command)) {
        if (!engine.setup().firewall.ipv6.enabled())
            log::warning("pinhole " + std::to_string(open_pinhole->pinhole.id) +
                         " recorded, but IPv6 is not forwarded here (lan.ipv6_networks is empty)");
        if (!engine.open_pinhole(open_pinhole->pinhole)) log::warning("pinhole id 0 refused: ids are 1 to 65535");
    } else if (const auto* close_pinhole = std::get_if<ClosePinhole>(&command)) {
        engine.close_pinhole(close_pinhole->id);
    } else if (const auto* query = std::get_if<QueryPinholePackets>(&command)) {
        if (query->reply) query->reply->set_value(engine.pinhole_packets(query->id));
    }
}

}  // namespace gw
