#include "neighbour_cache.hpp"

#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace gw::afxdp {

NeighbourCache::NeighbourCache() {
    netlink_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (netlink_ < 0) throw std::runtime_error("cannot open an rtnetlink socket");
    reload();
}

NeighbourCache::~NeighbourCache() {
    if (netlink_ >= 0) close(netlink_);
}

void NeighbourCache::reload() {
    entries_.clear();
    std::ifstream table("/proc/net/arp");
    std::string line;
    std::getline(table, line);  // the header
    while (std::getline(table, line)) {
        std::istringstream fields(line);
        std::string ip, type, flags, mac, mask, device;
        if (!(fields >> ip >> type >> flags >> mac >> mask >> device)) continue;
        // ATF_COM (0x2): resolved.
        if ((std::stoul(flags, nullptr, 16) & 0x2) == 0) continue;
        in_addr a{};
        Entry e{};
        if (inet_pton(AF_INET, ip.c_str(), &a) != 1) continue;
        if (std::sscanf(mac.c_str(), "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &e.mac[0], &e.mac[1], &e.mac[2], &e.mac[3],
                        &e.mac[4], &e.mac[5]) != 6)
            continue;
        e.ifindex = int(if_nametoindex(device.c_str()));
        entries_[ntohl(a.s_addr)] = e;
    }
    loaded_ = std::chrono::steady_clock::now();
}

void NeighbourCache::refresh_if_stale() {
    if (std::chrono::steady_clock::now() - loaded_ > std::chrono::seconds(1)) reload();
}

std::optional<Mac> NeighbourCache::find(std::uint32_t address, int ifindex) {
    auto it = entries_.find(address);
    if (it != entries_.end() && it->second.ifindex == ifindex) return it->second.mac;
    ++misses_;
    // At most one reread per millisecond of misses: a flood to unresolved hosts must not
    // turn into a flood of file reads.
    if (std::chrono::steady_clock::now() - loaded_ > std::chrono::milliseconds(1)) {
        reload();
        it = entries_.find(address);
        if (it != entries_.end() && it->second.ifindex == ifindex) return it->second.mac;
    }
    ask_resolution(address, ifindex);
    return std::nullopt;
}

void NeighbourCache::ask_resolution(std::uint32_t address, int ifindex) {
    struct {
        nlmsghdr header;
        ndmsg neighbour;
        rtattr destination_attribute;
        std::uint32_t destination;
    } request{};
    request.header.nlmsg_len = sizeof(request);
    request.header.nlmsg_type = RTM_NEWNEIGH;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
    request.neighbour.ndm_family = AF_INET;
    request.neighbour.ndm_ifindex = ifindex;
    request.neighbour.ndm_state = NUD_NONE;
    request.neighbour.ndm_flags = NTF_USE;  // neigh_event_send: resolve as for an outgoing packet
    request.destination_attribute.rta_len = RTA_LENGTH(sizeof(std::uint32_t));
    request.destination_attribute.rta_type = NDA_DST;
    request.destination = htonl(address);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    // No acknowledgement asked for: a failed request is seen as the next miss.
    sendto(netlink_, &request, sizeof(request), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel));
}

}  // namespace gw::afxdp
