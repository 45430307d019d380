#include "address_checks.hpp"

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

}  // namespace gw
