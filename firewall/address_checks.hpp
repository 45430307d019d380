// Anti-spoofing: which source addresses may arrive on which side, and which addresses
// may stand for a LAN host (as a source on the LAN, or as the internal end of a mapping
// or forward).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "nat/endpoint.hpp"

namespace gw {

// Sources no packet from the internet may carry (RFC 1122 3.2.1.3, RFC 5735):
// "this network" 0/8, loopback 127/8, link-local 169.254/16, multicast 224/4,
// reserved 240/4 and the limited broadcast.
bool is_martian_source(Ipv4Address source);

bool is_inside(Ipv4Address address, std::span<const Ipv4Network> networks);

// What an address is from the LAN's point of view. Only `host` may be a LAN host: the
// others are the gateway itself (its own addresses, loopback, "this host" 0/8), an
// address that reaches every host of a LAN network at once (its network or broadcast
// address, RFC 919/922; /31 and /32 networks have neither, RFC 3021), or something that
// is not on the LAN at all (outside lan.networks, multicast, reserved).
enum class LanAddressClass : std::uint8_t { host, gateway, network, broadcast, outside_lan };

std::string_view lan_address_class_name(LanAddressClass c);

// `gateway_addresses`: the gateway's own IPv4 addresses (LAN interface and WAN).
LanAddressClass classify_lan_address(Ipv4Address address, std::span<const Ipv4Network> lan_networks,
                                     std::span<const Ipv4Address> gateway_addresses);

// An address whose packets the kernel would deliver to the gateway's own sockets
// (its addresses, loopback, 0/8, a network or broadcast address, multicast, 240/4).
// Nothing started on the WAN may be delivered there through a mapping or a forward.
bool delivers_to_gateway(Ipv4Address address, std::span<const Ipv4Network> lan_networks,
                         std::span<const Ipv4Address> gateway_addresses);

}  // namespace gw
