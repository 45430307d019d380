#include "ssdp_server.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

#include "base/log.hpp"
#include "igd/engine_clock.hpp"
#include "queue_rules.hpp"
#include "base/startup_error.hpp"
#include "socket_address.hpp"

namespace gw {
namespace {

constexpr Instant repeat_after = std::chrono::seconds(1);
constexpr int receive_batch = 64;  // datagrams per socket per wake-up: the loop stays responsive
constexpr std::size_t datagram_limit = 1500;

std::string http_date() {
    std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[64];
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
    return text;
}

void set_option(int socket, int level, int name, const void* value, socklen_t size, const std::string& what) {
    if (setsockopt(socket, level, name, value, size) != 0)
        throw StartupError("SSDP: cannot " + what + ": " + error_text(errno));
}

}  // namespace

SsdpServer::SsdpServer(SsdpServerOptions options)
    : options_(std::move(options)),
      targets_(ssdp_targets(options_.identity)),
      responder_(options_.limits, options_.lan_networks, options_.gateway_addresses) {}

SsdpServer::~SsdpServer() {
    if (thread_.joinable()) {
        thread_.request_stop();
        std::uint64_t one = 1;
        [[maybe_unused]] auto written = write(wake_fd_, &one, sizeof one);
        thread_.join();
        // Control points forget the gateway at once instead of after max-age.
        announce(SsdpNotifyKind::byebye);
        log::info("SSDP: ssdp:byebye sent on " + options_.lan_interface);
    }
    for (int fd : {unicast_, group_, wake_fd_})
        if (fd >= 0) close(fd);
}

int SsdpServer::open_socket(Endpoint bound_to) const {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw StartupError("SSDP: cannot create a UDP socket: " + error_text(errno));
    int yes = 1;
    // pupnp's (silenced) socket holds 0.0.0.0:1900 with SO_REUSEADDR too.
    set_option(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes, "reuse port 1900");
    // Only what arrives on the LAN interface, whatever address it is sent to.
    set_option(fd, SOL_SOCKET, SO_BINDTODEVICE, options_.lan_interface.c_str(),
               socklen_t(options_.lan_interface.size()), "bind to " + options_.lan_interface);
    std::uint32_t mark = ssdp_socket_mark;
    set_option(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark, "mark its packets");
    set_option(fd, IPPROTO_IP, IP_PKTINFO, &yes, sizeof yes, "ask for the arrival interface");
    sockaddr_in local = socket_address(bound_to);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
        int error = errno;
        close(fd);
        throw StartupError("SSDP: cannot bind " + to_string(bound_to) + ": " + error_text(error));
    }
    return fd;
}

void SsdpServer::start() {
    lan_index_ = if_nametoindex(options_.lan_interface.c_str());
    if (lan_index_ == 0) throw StartupError("SSDP: no interface " + options_.lan_interface);
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) throw StartupError("SSDP: cannot create an eventfd: " + error_text(errno));
    Ipv4Address group = *Ipv4Address::parse(ssdp_group);
    unicast_ = open_socket(Endpoint{options_.lan_address, Port{ssdp_port}});
    // By interface index (struct ip_mreqn), not by an address a routing lookup could move
    // to another interface: the NOTIFYs leave by the LAN whatever the routing table says.
    ip_mreqn out{};
    out.imr_address.s_addr = htonl(options_.lan_address.host_order());
    out.imr_ifindex = int(lan_index_);
    set_option(unicast_, IPPROTO_IP, IP_MULTICAST_IF, &out, sizeof out, "send multicast out of the LAN");
    int ttl = 2, no = 0;  // UDA 1.1 1.1.2: TTL 2 by default
    set_option(unicast_, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl, "set the multicast TTL");
    set_option(unicast_, IPPROTO_IP, IP_MULTICAST_LOOP, &no, sizeof no, "turn multicast loop off");
    group_ = open_socket(Endpoint{group, Port{ssdp_port}});
    ip_mreqn join{};
    join.imr_multiaddr.s_addr = htonl(group.host_order());
    join.imr_address.s_addr = htonl(options_.lan_address.host_order());
    join.imr_ifindex = int(lan_index_);
    set_option(group_, IPPROTO_IP, IP_ADD_MEMBERSHIP, &join, sizeof join, "join 239.255.255.250 on the LAN");
    // Only the group this socket joined, not every group some other socket joined.
    set_option(group_, IPPROTO_IP, IP_MULTICAST_ALL, &no, sizeof no, "limit it to its own group");
    log::info("SSDP: " + std::to_string(targets_.size()) + " announcements on " + options_.lan_interface + " from " +
              options_.lan_address.to_string() + ", LOCATION " + options_.identity.location + ", max-age " +
              std::to_string(options_.identity.max_age) + " s");
    thread_ = std::jthread([this](std::stop_token stop) { serve(stop); });
}

SsdpServerCounts SsdpServer::counts() const {
    std::lock_guard lock(mutex_);
    SsdpServerCounts c = counts_;
    c.responder = responder_.counts();
    c.pending = responder_.pending();
    return c;
}

void SsdpServer::serve(std::stop_token stop) {
    Instant next_announcement = monotonic_now();
    int repeats_left = 1;  // the start-up announcement is sent twice
    const auto max_age_ms = std::int64_t(options_.identity.max_age) * 1000;
    while (!stop.stop_requested()) {
        Instant now = monotonic_now();
        if (now >= next_announcement) {
            announce(SsdpNotifyKind::alive);
            if (repeats_left-- > 0) {
                next_announcement = now + repeat_after;
            } else {
                // UDA 1.1 1.2.2: re-announce well before max-age runs out, at a random time
                // so that devices restarted together do not announce together.
                std::uniform_int_distribution<std::int64_t> later(max_age_ms / 4, max_age_ms / 2);
                next_announcement = now + Instant(later(random_));
            }
        }
        send_answers(now);
        Instant wake = next_announcement;
        {
            std::lock_guard lock(mutex_);
            if (auto due = responder_.next_due(); due && *due < wake) wake = *due;
        }
        int timeout_ms = int(std::clamp<std::int64_t>((wake - now).count(), 0, 60000));
        pollfd fds[] = {{unicast_, POLLIN, 0}, {group_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        if (poll(fds, 3, timeout_ms) < 0 && errno != EINTR) {
            log::error("SSDP: poll failed: " + error_text(errno) + "; the server stops");
            return;
        }
        now = monotonic_now();
        if (fds[0].revents & POLLIN) receive_from(unicast_, now);
        if (fds[1].revents & POLLIN) receive_from(group_, now);
    }
}

void SsdpServer::receive_from(int socket, Instant now) {
    char buffer[datagram_limit];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in_pktinfo))];
    for (int i = 0; i < receive_batch; ++i) {
        sockaddr_in from{};
        iovec data{buffer, sizeof buffer};
        msghdr message{};
        message.msg_name = &from;
        message.msg_namelen = sizeof from;
        message.msg_iov = &data;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        ssize_t size = recvmsg(socket, &message, MSG_DONTWAIT);
        if (size < 0) return;
        unsigned arrived_on = 0;
        bool multicast = false;
        for (cmsghdr* c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
            if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_PKTINFO) continue;
            in_pktinfo info{};
            std::memcpy(&info, CMSG_DATA(c), sizeof info);
            arrived_on = unsigned(info.ipi_ifindex);
            multicast = (ntohl(info.ipi_addr.s_addr) >> 28) == 0xe;
        }
        Endpoint source{Ipv4Address(ntohl(from.sin_addr.s_addr)), Port{ntohs(from.sin_port)}};
        std::optional<SsdpRefusal> refusal;
        {
            std::lock_guard lock(mutex_);
            refusal = responder_.judge(std::string_view(buffer, std::size_t(size)), source, arrived_on == lan_index_,
                                       multicast, targets_, now, std::uint32_t(random_()));
        }
        // Another device's answers and NOTIFYs are not searches: not worth a log line.
        if (refusal && *refusal != SsdpRefusal::malformed && *refusal != SsdpRefusal::no_matching_target)
            log_refusal(*refusal, source, now);
    }
}

void SsdpServer::send_answers(Instant now) {
    std::vector<SsdpPendingAnswer> due;
    {
        std::lock_guard lock(mutex_);
        due = responder_.take_due(now);
    }
    if (due.empty()) return;
    std::string date = http_date();
    std::uint64_t sent = 0;
    for (const auto& answer : due)
        for (std::size_t i = 0; i < targets_.size(); ++i)
            if (answer.targets & (std::uint32_t(1) << i))
                if (send_to(answer.destination,
                            ssdp_search_answer(options_.identity, targets_[i], answer.search_target, date)))
                    ++sent;
    std::lock_guard lock(mutex_);
    counts_.answers_sent += sent;
}

void SsdpServer::announce(SsdpNotifyKind kind) {
    Endpoint group{*Ipv4Address::parse(ssdp_group), Port{ssdp_port}};
    std::uint64_t sent = 0;
    for (const auto& target : targets_)
        if (send_to(group, ssdp_notify(options_.identity, target, kind))) ++sent;
    std::lock_guard lock(mutex_);
    counts_.notifies_sent += sent;
}

bool SsdpServer::send_to(Endpoint destination, const std::string& datagram) {
    sockaddr_in to = socket_address(destination);
    if (sendto(unicast_, datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) ==
        ssize_t(datagram.size()))
        return true;
    std::lock_guard lock(mutex_);
    ++counts_.send_errors;
    return false;
}

void SsdpServer::log_refusal(SsdpRefusal refusal, Endpoint source, Instant now) {
    refusal_log_.write(
        "SSDP: M-SEARCH from " + to_string(source) + " not answered: " + std::string(ssdp_refusal_name(refusal)), now);
}

}  // namespace gw
