// The kernel's IPv4 neighbour table of the LAN interface, kept as a snapshot for the
// source trust check (issue 14, docs/architecture.md "Who sent a LAN packet"): does the
// host that sent a frame own the source address it wrote?
//
// A thread follows rtnetlink (RTNLGRP_NEIGH) after one dump at start, and keeps
// address -> MAC for entries whose link-layer address the kernel holds as valid
// (REACHABLE, STALE, DELAY, PROBE, PERMANENT, NOARP). Workers read it under a shared lock.
//
// A miss is not yet a refusal: a Linux host ARPs for the gateway before its first
// unicast, and that ARP request makes the gateway's kernel create the entry (STALE,
// arp_process) - but the notification may still be on its way to our thread. So a miss
// asks the kernel directly (RTM_GETNEIGH for that one address); still none, and the
// kernel is asked to resolve the address (RTM_NEWNEIGH with NTF_USE: one ARP request,
// as if the gateway had a packet for it) and the packet is refused as unresolved. A
// real host answers the ARP and its retry passes; an invented address never answers.
// While the kernel's entry is INCOMPLETE (or FAILED, until its garbage collection), it
// is not asked again.
// Both kernel requests are rate-limited together (a flood of invented sources must cost
// neither the packet path nor the LAN an ARP storm): beyond the limit a miss is refused
// without asking.
//
// Threads: judge() from any worker (it takes the engine lock's side: cheap, shared);
// the listener thread is the only writer of the snapshot.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "firewall/packet_engine.hpp"
#include "firewall/rate_limiter.hpp"

namespace gw {

using MacAddress = std::array<std::uint8_t, 6>;

class LanNeighbours {
public:
    // Throws StartupError when the netlink sockets cannot be opened.
    explicit LanNeighbours(std::uint32_t lan_interface_index);
    ~LanNeighbours();
    LanNeighbours(const LanNeighbours&) = delete;
    LanNeighbours& operator=(const LanNeighbours&) = delete;

    // Dumps the table and starts following it.
    void start();
    void stop();

    // What the frame's source MAC says of `source` (LinkSource in packet_engine.hpp).
    LinkSource judge(Ipv4Address source, const MacAddress& mac, Instant now);

    std::size_t size() const;
    std::uint64_t kernel_queries() const { return kernel_queries_.load(std::memory_order_relaxed); }
    std::uint64_t resolutions_asked() const { return resolutions_asked_.load(std::memory_order_relaxed); }

private:
    void run() noexcept;
    void request_dump();
    void read_events();
    // Applies one RTM_NEWNEIGH/RTM_DELNEIGH to the snapshot.
    void apply(const void* message);
    struct KernelAnswer {
        std::optional<MacAddress> mac;  // a valid entry's
        bool pending = false;           // an entry being resolved (or just failed): do not ask again
    };
    KernelAnswer ask_kernel(Ipv4Address address);
    void ask_resolution(Ipv4Address address);
    bool spend_kernel_request(Instant now);

    std::uint32_t ifindex_;
    int events_fd_ = -1;   // subscribed to RTNLGRP_NEIGH; the listener's
    int query_fd_ = -1;    // RTM_GETNEIGH / NTF_USE from judge(), under query_mutex_
    int stop_fd_ = -1;
    std::thread thread_;
    std::atomic<bool> stopping_{false};

    mutable std::shared_mutex mutex_;
    std::unordered_map<std::uint32_t, MacAddress> entries_;  // host-order address -> MAC

    std::mutex query_mutex_;
    std::uint32_t query_sequence_ = 0;
    RateLimiter kernel_requests_;  // under query_mutex_
    std::atomic<std::uint64_t> kernel_queries_{0}, resolutions_asked_{0};
};

}  // namespace gw
