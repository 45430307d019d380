// What the daemon reads from and sets on the host it runs on (in its own network
// namespace): interface addresses, the forwarding switch, the local port range.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "nat/endpoint.hpp"
#include "nat/ipv6_address.hpp"

namespace gw {

bool interface_exists(const std::string& name);
// IFF_UP: administratively up (carrier or not).
bool interface_is_up(const std::string& name);
// The first IPv4 address of an interface; nullopt when it has none.
std::optional<Ipv4Address> interface_ipv4_address(const std::string& name);
// Every IPv4 address of an interface (the gateway's own on that side); empty when none.
std::vector<Ipv4Address> interface_ipv4_addresses(const std::string& name);
// The subnet of that first address (address and netmask); nullopt when it has none.
std::optional<Ipv4Network> interface_ipv4_network(const std::string& name);

// The IPv6 addresses of an interface with their prefixes, link-local ones left out (what
// the IGD's pinholes take as the LAN's IPv6 networks); empty when it has none.
struct InterfaceIpv6Address {
    Ipv6Address address;
    Ipv6Network network;  // the address's prefix, host bits cleared
};
std::vector<InterfaceIpv6Address> interface_ipv6_addresses(const std::string& name);

// net.ipv4.ip_forward; set throws StartupError when /proc/sys is not writable.
bool ip_forwarding_enabled();
void set_ip_forwarding(bool enabled);
// net.ipv6.conf.all.forwarding (lan.ipv6_networks set). A router's interfaces then
// ignore router advertisements unless accept_ra is 2: the WAN's IPv6 address and
// default route must be configured, or accept_ra=2 set, by the operator.
void set_ipv6_forwarding(bool enabled);

// net.ipv4.conf.<interface>.<name>, e.g. accept_local; nullopt when unreadable.
std::optional<int> interface_setting(const std::string& interface, const std::string& name);
void set_interface_setting(const std::string& interface, const std::string& name, int value);  // throws StartupError

// net.ipv4.ip_local_port_range: the ports the gateway's own sockets pick from.
std::optional<PortRange> local_port_range();

}  // namespace gw
