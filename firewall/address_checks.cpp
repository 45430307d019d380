#include "address_checks.hpp"

#include <algorithm>

namespace gw {

bool is_martian_source(Ipv4Address source) {
    static const Ipv4Network martians[] = {
        *Ipv4Network::parse("0.0.0.0/8"),     *Ipv4Network::parse("127.0.0.0/8"),
        *Ipv4Network::parse("169.254.0.0/16"), *Ipv4Network::parse("224.0.0.0/4"),
        *Ipv4Network::parse("240.0.0.0/4"),
    };
    return is_inside(source, martians);
}

bool is_inside(Ipv4Address address, std::span<const Ipv4Network> networks) {
    for (const auto& n : networks)
        if (n.contains(address)) return true;
    return false;
}

std::string_view lan_address_class_name(LanAddressClass c) {
    switch (c) {
        case LanAddressClass::host: return "host";
        case LanAddressClass::gateway: return "gateway";
        case LanAddressClass::network: return "network";
        case LanAddressClass::broadcast: return "broadcast";
        case LanAddressClass::outside_lan: return "outside_lan";
    }
    return "outside_lan";
}

LanAddressClass classify_lan_address(Ipv4Address address, std::span<const Ipv4Network> lan_networks,
                                     std::span<const Ipv4Address> gateway_addresses) {
    std::uint32_t a = address.host_order();
    std::uint32_t first_octet = a >> 24;
    if (first_octet == 0 || first_octet == 127 || std::ranges::find(gateway_addresses, address) != gateway_addresses.end())
        return LanAddressClass::gateway;
    if (first_octet >= 224) return LanAddressClass::outside_lan;  // multicast, 240/4, 255.255.255.255
    // Network and broadcast addresses of every LAN network first: with overlapping
    // networks (10.0.0.0/8 and 10.1.0.0/16) 10.1.255.255 is a broadcast of the second
    // even though it is a host of the first.
    bool inside = false;
    for (const Ipv4Network& n : lan_networks) {
        if (!n.contains(address)) continue;
        inside = true;
        if (n.prefix_length > 30) continue;  // RFC 3021: /31 and /32 have only hosts
        if ((a & ~n.mask()) == 0) return LanAddressClass::network;
        if ((a | n.mask()) == 0xffffffffU) return LanAddressClass::broadcast;
    }
    return inside ? LanAddressClass::host : LanAddressClass::outside_lan;
}

bool delivers_to_gateway(Ipv4Address address, std::span<const Ipv4Network> lan_networks,
                         std::span<const Ipv4Address> gateway_addresses) {
    LanAddressClass c = classify_lan_address(address, lan_networks, gateway_addresses);
    if (c == LanAddressClass::gateway || c == LanAddressClass::network || c == LanAddressClass::broadcast) return true;
    return (address.host_order() >> 28) >= 0xe;  // multicast and 240/4 are received locally
}

}  // namespace gw
