#include "config/reload_keys.hpp"

#include <algorithm>
#include <array>

namespace gw {
namespace {

// What a reload carries out in place, and who does (daemon/gateway_control.cpp, reload):
//   nat.timeouts.*                   both flow tables, live flows included (FlowTableCore::set_timeouts),
//                                    and GetOutboundPinholeTimeout's answer
//   firewall.* but ipv6.max_flows    the engine's rule and forward tables (PacketEngine::reconfigure);
//                                    log_lines_per_second the decision log
//   upnp.secure_mode, max_lease, per_client_limit, max_mappings, permissions
//                                    the mapping policy, through its service (MappingPolicy::reconfigure);
//                                    secure_mode the pinhole policy's too
constexpr std::array<std::string_view, 13> in_place = {
    "nat.timeouts.",
    "firewall.rules",
    "firewall.forwards",
    "firewall.filtering",
    "firewall.policy.",
    "firewall.log_lines_per_second",
    "firewall.dmz",
    "firewall.ipv6.inbound_echo_request",
    "upnp.secure_mode",
    "upnp.max_lease",
    "upnp.per_client_limit",
    "upnp.max_mappings",
    "upnp.permissions",
};

}  // namespace

std::span<const std::string_view> keys_applied_in_place() { return in_place; }

bool applies_in_place(std::string_view key) {
    return std::any_of(in_place.begin(), in_place.end(), [&](std::string_view entry) {
        return entry.ends_with('.') ? key.starts_with(entry) : key == entry;
    });
}

}  // namespace gw
