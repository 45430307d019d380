#include "nat/address_class.hpp"

namespace gw {
namespace {

struct SpecialBlock {
    std::uint32_t base;  // host order
    std::uint8_t prefix_length;
    AddressClass address_class;
    std::string_view block;
    std::string_view rfc;
};

constexpr std::uint32_t quad(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
    return a << 24 | b << 16 | c << 8 | d;
}

// The IANA IPv4 Special-Purpose Address Registry, with the RFC that set each block
// aside. 255.255.255.255 comes before 240/4, which contains it: the first match wins.
// 192.0.0.9 and 192.0.0.10 (PCP and TURN anycast) are globally reachable per the
// registry but are never a host's own address, so the whole /24 is treated alike.
constexpr SpecialBlock special_blocks[] = {
    {quad(0, 0, 0, 0), 8, AddressClass::this_network, "0.0.0.0/8", "RFC 791, RFC 1122"},
    {quad(10, 0, 0, 0), 8, AddressClass::private_use, "10.0.0.0/8", "RFC 1918"},
    {quad(100, 64, 0, 0), 10, AddressClass::shared, "100.64.0.0/10", "RFC 6598"},
    {quad(127, 0, 0, 0), 8, AddressClass::loopback, "127.0.0.0/8", "RFC 1122"},
    {quad(169, 254, 0, 0), 16, AddressClass::link_local, "169.254.0.0/16", "RFC 3927"},
    {quad(172, 16, 0, 0), 12, AddressClass::private_use, "172.16.0.0/12", "RFC 1918"},
    {quad(192, 0, 0, 0), 24, AddressClass::ietf_protocol, "192.0.0.0/24", "RFC 6890"},
    {quad(192, 0, 2, 0), 24, AddressClass::documentation, "192.0.2.0/24", "RFC 5737"},
    {quad(192, 88, 99, 0), 24, AddressClass::relay_anycast, "192.88.99.0/24", "RFC 7526"},
    {quad(192, 168, 0, 0), 16, AddressClass::private_use, "192.168.0.0/16", "RFC 1918"},
    {quad(198, 18, 0, 0), 15, AddressClass::benchmarking, "198.18.0.0/15", "RFC 2544"},
    {quad(198, 51, 100, 0), 24, AddressClass::documentation, "198.51.100.0/24", "RFC 5737"},
    {quad(203, 0, 113, 0), 24, AddressClass::documentation, "203.0.113.0/24", "RFC 5737"},
    {quad(224, 0, 0, 0), 4, AddressClass::multicast, "224.0.0.0/4", "RFC 5771"},
    {quad(255, 255, 255, 255), 32, AddressClass::limited_broadcast, "255.255.255.255/32", "RFC 919, RFC 8190"},
    {quad(240, 0, 0, 0), 4, AddressClass::reserved, "240.0.0.0/4", "RFC 1112"},
};

constexpr bool inside(std::uint32_t address, const SpecialBlock& b) {
    std::uint32_t mask = ~std::uint32_t(0) << (32 - b.prefix_length);  // prefix_length >= 4 here
    return (address & mask) == b.base;
}

}  // namespace

AddressClassification classify_ipv4(Ipv4Address address) {
    for (const auto& b : special_blocks)
        if (inside(address.host_order(), b)) return {b.address_class, b.block, b.rfc};
    return {};
}

std::string_view address_class_name(AddressClass c) {
    switch (c) {
        case AddressClass::public_unicast: return "public";
        case AddressClass::private_use: return "private";
        case AddressClass::shared: return "shared (CGNAT)";
        case AddressClass::this_network: return "this-network";
        case AddressClass::loopback: return "loopback";
        case AddressClass::link_local: return "link-local";
        case AddressClass::ietf_protocol: return "IETF protocol assignment";
        case AddressClass::documentation: return "documentation";
        case AddressClass::relay_anycast: return "6to4 relay anycast";
        case AddressClass::benchmarking: return "benchmarking";
        case AddressClass::multicast: return "multicast";
        case AddressClass::reserved: return "reserved";
        case AddressClass::limited_broadcast: return "limited broadcast";
    }
    return "unknown";
}

}  // namespace gw
