// The address the IGD reports as the gateway's external one (GetExternalIPAddress and
// the ExternalIPAddress evented variable): the public address STUN found when another
// NAT is upstream, else the WAN address. Written by the daemon's main loop when the
// WAN address or the STUN answer changes, read by pupnp's threads: one atomic word.
#pragma once

#include <atomic>
#include <cstdint>

#include "nat/endpoint.hpp"

namespace gw {

class ExternalAddress {
public:
    explicit ExternalAddress(Ipv4Address initial) : value_(initial.host_order()) {}
    Ipv4Address load() const { return Ipv4Address(value_.load(std::memory_order_relaxed)); }
    // True when the value changed (the caller then announces it).
    bool store(Ipv4Address address) {
        return value_.exchange(address.host_order(), std::memory_order_relaxed) != address.host_order();
    }

private:
    std::atomic<std::uint32_t> value_;
};

}  // namespace gw
