// Tells the main loop when the WAN interface's IPv4 addresses change (wan.address:
// auto): an rtnetlink socket subscribed to RTNLGRP_IPV4_IFADDR, read without blocking
// from the main loop's poll. It says only "something changed on this interface"; the
// caller reads the address back (host_network.hpp), which also covers missed events.
#pragma once

#include <string>

namespace gw {

class WanAddressWatch {
public:
    // Throws StartupError when the netlink socket cannot be opened or bound.
    explicit WanAddressWatch(const std::string& interface);
    ~WanAddressWatch();
    WanAddressWatch(const WanAddressWatch&) = delete;
    WanAddressWatch& operator=(const WanAddressWatch&) = delete;

    int fd() const { return fd_; }
    // Reads every pending message; true when one was about the interface's IPv4
    // addresses, or when events were lost (ENOBUFS) and the address must be read again.
    bool take_events();

private:
    int fd_ = -1;
    std::string interface_;
};

}  // namespace gw
