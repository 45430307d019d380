#include "host_network.hpp"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "base/startup_error.hpp"

namespace gw {
namespace {

constexpr const char* ip_forward_path = "/proc/sys/net/ipv4/ip_forward";
constexpr const char* ipv6_forwarding_path = "/proc/sys/net/ipv6/conf/all/forwarding";

}  // namespace

bool interface_exists(const std::string& name) { return if_nametoindex(name.c_str()) != 0; }

bool interface_is_up(const std::string& name) {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return false;
    bool up = false;
    for (ifaddrs* a = list; a && !up; a = a->ifa_next)
        if (name == a->ifa_name && (a->ifa_flags & IFF_UP)) up = true;
    freeifaddrs(list);
    return up;
}

std::optional<Ipv4Address> interface_ipv4_address(const std::string& name) {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return std::nullopt;
    std::optional<Ipv4Address> found;
    for (ifaddrs* a = list; a && !found; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || name != a->ifa_name) continue;
        auto* in = reinterpret_cast<sockaddr_in*>(a->ifa_addr);
        found = Ipv4Address(ntohl(in->sin_addr.s_addr));
    }
    freeifaddrs(list);
    return found;
}

std::vector<Ipv4Address> interface_ipv4_addresses(const std::string& name) {
    std::vector<Ipv4Address> found;
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return found;
    for (ifaddrs* a = list; a; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || name != a->ifa_name) continue;
        found.push_back(Ipv4Address(ntohl(reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr)));
    }
    freeifaddrs(list);
    return found;
}

std::optional<Ipv4Network> interface_ipv4_network(const std::string& name) {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return std::nullopt;
    std::optional<Ipv4Network> found;
    for (ifaddrs* a = list; a && !found; a = a->ifa_next) {
        if (!a->ifa_addr || !a->ifa_netmask || a->ifa_addr->sa_family != AF_INET || name != a->ifa_name) continue;
        std::uint32_t address = ntohl(reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr);
        std::uint32_t mask = ntohl(reinterpret_cast<sockaddr_in*>(a->ifa_netmask)->sin_addr.s_addr);
        found = Ipv4Network{Ipv4Address(address & mask), std::uint8_t(__builtin_popcount(mask))};
    }
    freeifaddrs(list);
    return found;
}

std::vector<InterfaceIpv6Address> interface_ipv6_addresses(const std::string& name) {
    std::vector<InterfaceIpv6Address> found;
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return found;
    for (ifaddrs* a = list; a; a = a->ifa_next) {
        if (!a->ifa_addr || !a->ifa_netmask || a->ifa_addr->sa_family != AF_INET6 || name != a->ifa_name) continue;
        Ipv6Address::Bytes bytes{}, mask{};
        std::memcpy(bytes.data(), &reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr, 16);
        std::memcpy(mask.data(), &reinterpret_cast<sockaddr_in6*>(a->ifa_netmask)->sin6_addr, 16);
        Ipv6Address address(bytes);
        if (address.is_link_local()) continue;
        unsigned prefix = 0;
        for (std::size_t i = 0; i < 16; ++i) {
            prefix += unsigned(__builtin_popcount(mask[i]));
            bytes[i] &= mask[i];
        }
        found.push_back({address, Ipv6Network{Ipv6Address(bytes), std::uint8_t(prefix)}});
    }
    freeifaddrs(list);
    return found;
}

bool ip_forwarding_enabled() {
    std::ifstream file(ip_forward_path);
    int value = 0;
    file >> value;
    return value == 1;
}

void set_ip_forwarding(bool enabled) {
    std::ofstream file(ip_forward_path);
    file << (enabled ? "1\n" : "0\n");
    file.flush();
    if (!file) throw StartupError(std::string("cannot write ") + ip_forward_path);
}

void set_ipv6_forwarding(bool enabled) {
    std::ofstream file(ipv6_forwarding_path);
    file << (enabled ? "1\n" : "0\n");
    file.flush();
    if (!file) throw StartupError(std::string("cannot write ") + ipv6_forwarding_path);
}

namespace {
std::string interface_setting_path(const std::string& interface, const std::string& name) {
    return "/proc/sys/net/ipv4/conf/" + interface + "/" + name;
}
}  // namespace

std::optional<int> interface_setting(const std::string& interface, const std::string& name) {
    std::ifstream file(interface_setting_path(interface, name));
    int value = 0;
    if (!(file >> value)) return std::nullopt;
    return value;
}

void set_interface_setting(const std::string& interface, const std::string& name, int value) {
    std::ofstream file(interface_setting_path(interface, name));
    file << value << '\n';
    file.flush();
    if (!file) throw StartupError("cannot write " + interface_setting_path(interface, name));
}

std::optional<PortRange> local_port_range() {
    std::ifstream file("/proc/sys/net/ipv4/ip_local_port_range");
    unsigned first = 0, last = 0;
    if (!(file >> first >> last) || first > last || last > 65535) return std::nullopt;
    return PortRange{std::uint16_t(first), std::uint16_t(last)};
}

}  // namespace gw
