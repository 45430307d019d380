#include "lan_neighbours.hpp"

#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "base/log.hpp"
#include "base/startup_error.hpp"

namespace gw {
namespace {

// Kernel requests on misses: enough for every host of a /24 arriving in one second,
// too few for a flood of invented sources to become an ARP storm or a syscall per packet.
constexpr RateLimit kernel_request_limit{100, 256, 0};

constexpr std::uint16_t valid_states = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP;

struct NeighbourRequest {
    nlmsghdr header;
    ndmsg neighbour;
    rtattr destination_attribute;
    std::uint32_t destination;
};

int netlink_socket(unsigned groups) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return -1;
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    local.nl_groups = groups;
    if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

NeighbourRequest neighbour_request(std::uint16_t type, std::uint16_t flags, std::uint32_t ifindex,
                                   Ipv4Address address, std::uint32_t sequence) {
    NeighbourRequest r{};
    r.header.nlmsg_len = sizeof r;
    r.header.nlmsg_type = type;
    r.header.nlmsg_flags = NLM_F_REQUEST | flags;
    r.header.nlmsg_seq = sequence;
    r.neighbour.ndm_family = AF_INET;
    r.neighbour.ndm_ifindex = int(ifindex);
    r.destination_attribute.rta_len = RTA_LENGTH(sizeof r.destination);
    r.destination_attribute.rta_type = NDA_DST;
    r.destination = htonl(address.host_order());
    return r;
}

// The address and MAC of a neighbour message on `ifindex`; state says whether valid.
struct ParsedNeighbour {
    bool ours = false;
    bool valid = false;
    bool pending = false;  // the kernel is resolving it, or just failed to: asking again adds nothing
    std::uint32_t address = 0;
    MacAddress mac{};
};

ParsedNeighbour parse_neighbour(const nlmsghdr* message, std::uint32_t ifindex) {
    ParsedNeighbour parsed;
    if (message->nlmsg_len < NLMSG_LENGTH(sizeof(ndmsg))) return parsed;
    auto* neighbour = static_cast<const ndmsg*>(NLMSG_DATA(message));
    if (neighbour->ndm_family != AF_INET || std::uint32_t(neighbour->ndm_ifindex) != ifindex) return parsed;
    bool has_address = false, has_mac = false;
    int length = int(message->nlmsg_len - NLMSG_LENGTH(sizeof(ndmsg)));
    for (auto* a = reinterpret_cast<const rtattr*>(reinterpret_cast<const char*>(neighbour) + NLMSG_ALIGN(sizeof(ndmsg)));
         RTA_OK(a, length); a = RTA_NEXT(a, length)) {
        if (a->rta_type == NDA_DST && RTA_PAYLOAD(a) == 4) {
            std::uint32_t network_order;
            std::memcpy(&network_order, RTA_DATA(a), 4);
            parsed.address = ntohl(network_order);
            has_address = true;
        } else if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == parsed.mac.size()) {
            std::memcpy(parsed.mac.data(), RTA_DATA(a), parsed.mac.size());
            has_mac = true;
        }
    }
    parsed.ours = has_address;
    parsed.pending = has_address && (neighbour->ndm_state & (NUD_INCOMPLETE | NUD_FAILED));
    parsed.valid = has_address && has_mac && message->nlmsg_type == RTM_NEWNEIGH && (neighbour->ndm_state & valid_states);
    return parsed;
}

}  // namespace

LanNeighbours::LanNeighbours(std::uint32_t lan_interface_index)
    : ifindex_(lan_interface_index), kernel_requests_(kernel_request_limit) {
    events_fd_ = netlink_socket(RTMGRP_NEIGH);
    query_fd_ = netlink_socket(0);
    stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (events_fd_ < 0 || query_fd_ < 0 || stop_fd_ < 0)
        throw StartupError(std::string("cannot open the rtnetlink sockets for the LAN neighbour table: ") +
                           std::strerror(errno));
    // A lost reply must not hold a worker: the kernel answers a neighbour query at once.
    timeval timeout{0, 100'000};
    setsockopt(query_fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    int buffer = 1 << 20;
    setsockopt(events_fd_, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
}

LanNeighbours::~LanNeighbours() {
    stop();
    for (int fd : {events_fd_, query_fd_, stop_fd_})
        if (fd >= 0) close(fd);
}

void LanNeighbours::start() {
    request_dump();
    read_events();  // the dump, before the first packet is judged
    thread_ = std::thread([this] { run(); });
}

void LanNeighbours::stop() {
    if (!thread_.joinable()) return;
    stopping_.store(true);
    std::uint64_t one = 1;
    [[maybe_unused]] auto written = write(stop_fd_, &one, sizeof one);
    thread_.join();
}

void LanNeighbours::request_dump() {
    struct {
        nlmsghdr header;
        ndmsg neighbour;
    } dump{};
    dump.header.nlmsg_len = sizeof dump;
    dump.header.nlmsg_type = RTM_GETNEIGH;
    dump.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    dump.neighbour.ndm_family = AF_INET;
    if (send(events_fd_, &dump, sizeof dump, 0) < 0) log::warning(std::string("neighbour table dump: ") + std::strerror(errno));
}

void LanNeighbours::run() noexcept {
    pollfd fds[] = {{events_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    while (!stopping_.load(std::memory_order_relaxed)) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR) return log::error(std::string("neighbour table: poll: ") + std::strerror(errno));
        if (fds[0].revents) read_events();
    }
}

// Reads until the socket is empty (or the dump is done). Events lost to a full buffer
// (ENOBUFS) are made good with a fresh dump: an entry we miss is asked for on use.
void LanNeighbours::read_events() {
    alignas(nlmsghdr) char buffer[32768];
    for (;;) {
        ssize_t n = recv(events_fd_, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == ENOBUFS) {
                request_dump();
                continue;
            }
            return;  // EAGAIN: nothing more now
        }
        bool done = false;
        int length = int(n);
        for (auto* m = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(m, length); m = NLMSG_NEXT(m, length)) {
            if (m->nlmsg_type == NLMSG_DONE || m->nlmsg_type == NLMSG_ERROR) done = true;
            else if (m->nlmsg_type == RTM_NEWNEIGH || m->nlmsg_type == RTM_DELNEIGH) apply(m);
        }
        if (done && !thread_.joinable()) return;  // start(): the dump is in
    }
}

void LanNeighbours::apply(const void* message) {
    ParsedNeighbour parsed = parse_neighbour(static_cast<const nlmsghdr*>(message), ifindex_);
    if (!parsed.ours) return;
    std::unique_lock lock(mutex_);
    if (parsed.valid) entries_[parsed.address] = parsed.mac;
    else entries_.erase(parsed.address);
}

bool LanNeighbours::spend_kernel_request(Instant now) {
    return kernel_requests_.admit(now);
}

LanNeighbours::KernelAnswer LanNeighbours::ask_kernel(Ipv4Address address) {
    kernel_queries_.fetch_add(1, std::memory_order_relaxed);
    NeighbourRequest request = neighbour_request(RTM_GETNEIGH, 0, ifindex_, address, ++query_sequence_);
    if (send(query_fd_, &request, sizeof request, 0) < 0) return {};
    alignas(nlmsghdr) char buffer[1024];
    for (;;) {
        ssize_t n = recv(query_fd_, buffer, sizeof buffer, 0);
        if (n <= 0) return {};  // timed out
        int length = int(n);
        for (auto* m = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(m, length); m = NLMSG_NEXT(m, length)) {
            if (m->nlmsg_seq != query_sequence_) continue;  // a late answer to an earlier request
            if (m->nlmsg_type != RTM_NEWNEIGH) return {};  // NLMSG_ERROR: ENOENT
            ParsedNeighbour parsed = parse_neighbour(m, ifindex_);
            if (parsed.address != address.host_order()) return {};
            KernelAnswer answer;
            answer.pending = parsed.pending;
            if (parsed.valid) answer.mac = parsed.mac;
            return answer;
        }
    }
}

void LanNeighbours::ask_resolution(Ipv4Address address) {
    resolutions_asked_.fetch_add(1, std::memory_order_relaxed);
    // NTF_USE: the kernel treats it as a packet waiting for the address (neigh_event_send),
    // creating the entry and sending its ARP request. No ACK asked; an error answer is
    // read off by the next query's loop (its sequence number does not match).
    NeighbourRequest request = neighbour_request(RTM_NEWNEIGH, NLM_F_CREATE, ifindex_, address, ++query_sequence_);
    request.neighbour.ndm_flags = NTF_USE;
    request.neighbour.ndm_state = NUD_NONE;
    [[maybe_unused]] auto sent = send(query_fd_, &request, sizeof request, MSG_DONTWAIT);
}

LinkSource LanNeighbours::judge(Ipv4Address source, const MacAddress& mac, Instant now) {
    {
        std::shared_lock lock(mutex_);
        if (auto it = entries_.find(source.host_order()); it != entries_.end())
            return it->second == mac ? LinkSource::owner : LinkSource::other_owner;
    }
    std::lock_guard lock(query_mutex_);
    if (!spend_kernel_request(now)) return LinkSource::no_neighbour;
    KernelAnswer known = ask_kernel(source);
    if (known.mac) {
        {
            std::unique_lock write(mutex_);
            entries_[source.host_order()] = *known.mac;
        }
        return *known.mac == mac ? LinkSource::owner : LinkSource::other_owner;
    }
    if (!known.pending) ask_resolution(source);
    return LinkSource::no_neighbour;
}

std::size_t LanNeighbours::size() const {
    std::shared_lock lock(mutex_);
    return entries_.size();
}

}  // namespace gw
