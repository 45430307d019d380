#include "daemon/upstream_announcement_listener.hpp"

#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "base/log.hpp"
#include "daemon/socket_address.hpp"
#include "daemon/upstream_worker.hpp"
#include "igd/engine_clock.hpp"
#include "igd/pcp_message.hpp"
#include "igd/upstream_announcement.hpp"

namespace gw {

UpstreamAnnouncementListener::UpstreamAnnouncementListener(std::string wan_interface, UpstreamWorker& worker)
    : wan_interface_(std::move(wan_interface)), worker_(worker) {}

UpstreamAnnouncementListener::~UpstreamAnnouncementListener() {
    thread_.stop();
    if (socket_ >= 0) close(socket_);
}

bool UpstreamAnnouncementListener::open_socket() {
    socket_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    auto fail = [this](const std::string& what) {
        log::warning("upstream: cannot hear the upstream's announcements on " + wan_interface_ + ":5350 (" + what +
                     ": " + error_text(errno) + "); its restarts are seen at the next renewal");
        if (socket_ >= 0) close(socket_);
        socket_ = -1;
        return false;
    };
    if (socket_ < 0) return fail("socket");
    int yes = 1;
    // Beside any other client of the host on 5350 (RFC 6887 §14.1.3 has every PCP client
    // listen there); the WAN device alone, so the LAN's announcements (our own server's
    // included) never count.
    setsockopt(socket_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (setsockopt(socket_, SOL_SOCKET, SO_BINDTODEVICE, wan_interface_.c_str(), socklen_t(wan_interface_.size())) != 0)
        return fail("SO_BINDTODEVICE");
    // The destination address of each datagram: ours or the group (the judgement wants it).
    setsockopt(socket_, IPPROTO_IP, IP_PKTINFO, &yes, sizeof yes);
    sockaddr_in any = socket_address(Endpoint{Ipv4Address{}, Port{pcp_client_port}});
    if (bind(socket_, reinterpret_cast<const sockaddr*>(&any), sizeof any) != 0) return fail("bind");
    ip_mreqn group{};
    group.imr_multiaddr.s_addr = htonl(all_hosts_group.host_order());
    group.imr_ifindex = int(if_nametoindex(wan_interface_.c_str()));
    if (setsockopt(socket_, IPPROTO_IP, IP_ADD_MEMBERSHIP, &group, sizeof group) != 0 && errno != EADDRINUSE)
        return fail("joining 224.0.0.1");
    return true;
}

void UpstreamAnnouncementListener::start() {
    if (!open_socket()) return;
    log::info("upstream: listening for the upstream's PCP and NAT-PMP announcements on " + wan_interface_ + ":5350");
    thread_.start([this](std::stop_token stop, int wake_fd) {
        while (!stop.stop_requested()) {
            std::array<pollfd, 2> fds{{{socket_, POLLIN, 0}, {wake_fd, POLLIN, 0}}};
            if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return;
            if (fds[0].revents & POLLIN) read_datagrams();
        }
    });
}

void UpstreamAnnouncementListener::read_datagrams() {
    std::array<std::uint8_t, pcp_max_message_size + 1> buffer;
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(in_pktinfo))> control;
    for (;;) {
        sockaddr_in from{};
        iovec io{buffer.data(), buffer.size()};
        msghdr message{};
        message.msg_name = &from;
        message.msg_namelen = sizeof from;
        message.msg_iov = &io;
        message.msg_iovlen = 1;
        message.msg_control = control.data();
        message.msg_controllen = control.size();
        ssize_t size = recvmsg(socket_, &message, 0);
        if (size < 0) return;  // EAGAIN: drained
        Ipv4Address destination;
        for (cmsghdr* c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c))
            if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                in_pktinfo info;
                std::memcpy(&info, CMSG_DATA(c), sizeof info);
                destination = Ipv4Address{ntohl(info.ipi_addr.s_addr)};
            }
        AnnouncementDatagram datagram{{Ipv4Address{ntohl(from.sin_addr.s_addr)}, Port{ntohs(from.sin_port)}},
                                      destination,
                                      std::span<const std::uint8_t>(buffer.data(), std::size_t(size))};
        AnnouncementJudgement judged = judge_upstream_announcement(datagram, worker_.announcing_upstream());
        AnnouncementVerdict verdict = judged.verdict;
        if (verdict == AnnouncementVerdict::from_upstream) {
            worker_.upstream_announced(judged.epoch_seconds);  // the worker logs a restart it acts on
            continue;
        }
        worker_.announcement_ignored(verdict);
        std::string why(announcement_verdict_name(verdict));
        ignored_log_.write("upstream: ignored a datagram to " + destination.to_string() + ":5350 from " +
                               to_string(datagram.source) + " (" + why + ")",
                           monotonic_now());
    }
}

}  // namespace gw
