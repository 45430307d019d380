#include "drop_log.hpp"

#include <string>

#include "log.hpp"
#include "nat/wire_headers.hpp"

namespace gw {
namespace {

std::string describe(std::span<const std::uint8_t> packet) {
    if (packet.size() < sizeof(wire::Ipv4Header)) return std::to_string(packet.size()) + "-byte packet";
    const auto* ip = reinterpret_cast<const wire::Ipv4Header*>(packet.data());
    return ip->source().to_string() + " -> " + ip->destination().to_string() + " proto " +
           std::to_string(ip->protocol) + ", " + std::to_string(packet.size()) + " bytes";
}

}  // namespace

void DropLog::record(DropReason reason, std::string_view direction, std::span<const std::uint8_t> packet,
                     Instant now) {
    PerReason& r = reasons_[std::size_t(reason)];
    if (r.ever_logged && now - r.last_logged < summary_interval) {
        ++r.suppressed;
        return;
    }
    std::string line = "dropped " + std::string(direction) + " " + describe(packet) + ": " +
                       std::string(drop_reason_name(reason)) + " (" + std::string(drop_reason_description(reason)) + ")";
    if (r.suppressed > 0) line += "; " + std::to_string(r.suppressed) + " more like it since the last report";
    log::info(line);
    r.suppressed = 0;
    r.last_logged = now;
    r.ever_logged = true;
}

}  // namespace gw
