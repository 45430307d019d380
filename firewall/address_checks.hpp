// Anti-spoofing: which source addresses may arrive on which side.
#pragma once

#include <span>

#include "nat/endpoint.hpp"

namespace gw {

// Sources no packet from the internet may carry (RFC 1122 3.2.1.3, RFC 5735):
// "this network" 0/8, loopback 127/8, link-local 169.254/16, multicast 224/4,
// reserved 240/4 and the limited broadcast.
bool is_martian_source(Ipv4Address source);

bool is_inside(Ipv4Address address, std::span<const Ipv4Network> networks);

}  // namespace gw
