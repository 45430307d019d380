// What the daemon reads from and sets on the host it runs on (in its own network
// namespace): interface addresses, the forwarding switch, the local port range.
#pragma once

#include <optional>
#include <string>

#include "nat/endpoint.hpp"

namespace gw {

bool interface_exists(const std::string& name);
// The first IPv4 address of an interface; nullopt when it has none.
std::optional<Ipv4Address> interface_ipv4_address(const std::string& name);
// The subnet of that first address (address and netmask); nullopt when it has none.
std::optional<Ipv4Network> interface_ipv4_network(const std::string& name);

// net.ipv4.ip_forward; set throws StartupError when /proc/sys is not writable.
bool ip_forwarding_enabled();
void set_ip_forwarding(bool enabled);

// net.ipv4.conf.<interface>.<name>, e.g. accept_local; nullopt when unreadable.
std::optional<int> interface_setting(const std::string& interface, const std::string& name);
void set_interface_setting(const std::string& interface, const std::string& name, int value);  // throws StartupError

// net.ipv4.ip_local_port_range: the ports the gateway's own sockets pick from.
std::optional<PortRange> local_port_range();

}  // namespace gw
