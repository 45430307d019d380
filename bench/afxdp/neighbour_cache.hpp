// Next-hop MAC addresses for the issue 17 AF_XDP experiment (README.md): a copy of the
// kernel's IPv4 neighbour table, read from /proc/net/arp. A miss asks the kernel to resolve
// the address (rtnetlink RTM_NEWNEIGH with NTF_USE: the kernel sends the ARP request, as
// for a packet it routes itself) and the packet is dropped, as the kernel drops what it
// cannot queue on an unresolved neighbour. Single-threaded.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <unordered_map>

namespace gw::afxdp {

using Mac = std::array<std::uint8_t, 6>;

class NeighbourCache {
public:
    NeighbourCache();
    ~NeighbourCache();
    NeighbourCache(const NeighbourCache&) = delete;
    NeighbourCache& operator=(const NeighbourCache&) = delete;

    // `address` in host order, on interface `ifindex`. nullopt: unresolved, resolution asked.
    std::optional<Mac> find(std::uint32_t address, int ifindex);
    // Reads the table again when it is older than a second (entries change, expire).
    void refresh_if_stale();

    std::uint64_t misses() const { return misses_; }

private:
    void reload();
    void ask_resolution(std::uint32_t address, int ifindex);

    struct Entry {
        Mac mac;
        int ifindex;
    };
    std::unordered_map<std::uint32_t, Entry> entries_;
    std::chrono::steady_clock::time_point loaded_{};
    int netlink_ = -1;
    std::uint64_t misses_ = 0;
};

}  // namespace gw::afxdp
