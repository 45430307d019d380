#include "wan_address_watch.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/startup_error.hpp"

namespace gw {

WanAddressWatch::WanAddressWatch(const std::string& interface) : interface_(interface) {
    fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd_ < 0) throw StartupError(std::string("cannot open an rtnetlink socket: ") + std::strerror(errno));
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    local.nl_groups = RTMGRP_IPV4_IFADDR;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
        int e = errno;
        close(fd_);
        throw StartupError(std::string("cannot subscribe to IPv4 address changes (rtnetlink): ") + std::strerror(e));
    }
}

WanAddressWatch::~WanAddressWatch() {
    if (fd_ >= 0) close(fd_);
}

bool WanAddressWatch::take_events() {
    // Looked up on every read: the interface may have been re-created with a new index.
    const unsigned index = if_nametoindex(interface_.c_str());
    bool relevant = false;
    alignas(nlmsghdr) char buffer[8192];
    for (;;) {
        ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == ENOBUFS) {  // the kernel dropped events for us: read the address again
                relevant = true;
                continue;
            }
            return relevant;  // EAGAIN: all read
        }
        auto length = std::size_t(n);
        for (auto* h = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(h, length); h = NLMSG_NEXT(h, length)) {
            if (h->nlmsg_type != RTM_NEWADDR && h->nlmsg_type != RTM_DELADDR) continue;
            if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifaddrmsg))) continue;
            const auto* message = static_cast<const ifaddrmsg*>(NLMSG_DATA(h));
            if (message->ifa_family == AF_INET && message->ifa_index == index) relevant = true;
        }
    }
}

}  // namespace gw
