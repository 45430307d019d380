// What kind of IPv4 address the WAN interface holds, from the IANA IPv4 Special-Purpose
// Address Registry (RFC 6890 and the RFCs each block comes from). A WAN address that
// is not public means the internet cannot reach it directly: a second NAT (the ISP's
// carrier-grade NAT, or a modem in router mode) is upstream, and every port mapping
// this gateway grants ends at that NAT.
//
// Pure: a table lookup, no I/O.
#pragma once

#include <cstdint>
#include <string_view>

#include "nat/endpoint.hpp"

namespace gw {

enum class AddressClass : std::uint8_t {
    public_unicast,    // none of the blocks below: reachable from the internet
    private_use,       // 10/8, 172.16/12, 192.168/16 (RFC 1918)
    shared,            // 100.64/10, carrier-grade NAT space (RFC 6598)
    this_network,      // 0/8 (RFC 791, RFC 1122 3.2.1.3)
    loopback,          // 127/8 (RFC 1122 3.2.1.3)
    link_local,        // 169.254/16 (RFC 3927)
    ietf_protocol,     // 192.0.0/24 (RFC 6890)
    documentation,     // TEST-NET-1/2/3 (RFC 5737)
    relay_anycast,     // 192.88.99/24, the deprecated 6to4 relay anycast (RFC 7526)
    benchmarking,      // 198.18/15 (RFC 2544)
    multicast,         // 224/4 (RFC 5771)
    reserved,          // 240/4 (RFC 1112 section 4)
    limited_broadcast, // 255.255.255.255 (RFC 919, RFC 8190)
};

struct AddressClassification {
    AddressClass address_class = AddressClass::public_unicast;
    std::string_view block;  // "10.0.0.0/8"; empty for public addresses
    std::string_view rfc;    // "RFC 1918"; empty for public addresses
};

AddressClassification classify_ipv4(Ipv4Address address);

// "public", "private", "shared (CGNAT)", "documentation"... for logs and gatewayctl.
std::string_view address_class_name(AddressClass address_class);

// Private and shared addresses are what an upstream NAT hands out: holding one means
// a NAT is certainly upstream. The other special blocks are merely not routable.
constexpr bool implies_upstream_nat(AddressClass c) {
    return c == AddressClass::private_use || c == AddressClass::shared;
}

}  // namespace gw
