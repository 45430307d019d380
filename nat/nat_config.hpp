// What the translation engine needs to know, prepared by config/ before packets flow.
#pragma once

#include <cstdint>
#include <optional>

#include "endpoint.hpp"
#include "port_selection.hpp"

namespace gw {

// Idle timeouts in seconds. The defaults and the minimums are the RFC numbers; this is
// the one place they are written down (config/ validates against the minimums).
struct NatTimeouts {
    // RFC 4787 REQ-5: a UDP mapping MUST NOT expire in less than 2 minutes; 5 minutes RECOMMENDED.
    static constexpr std::uint32_t udp_minimum = 120;
    // RFC 5382 REQ-5: established TCP idle timeout MUST NOT be less than 2 hours 4 minutes.
    static constexpr std::uint32_t tcp_established_minimum = 7440;
    // RFC 5382 REQ-5 asks at least 4 minutes of a "transitory" (partially open or closing)
    // connection; RFC 7857 §2.1 splits it in two: the opening one MAY be configured below
    // 4 minutes (a SYN flood's half-open state costs memory), 4 minutes stay the
    // RECOMMENDED default. Our floor for it, 120 s, still outlasts the longest gap between
    // a SYN's retransmissions (64 s on Linux) and matches netfilter's SYN_SENT timeout. The
    // closing one (FIN or RST seen, TIME_WAIT) keeps REQ-5's 4 minutes: its floor is not relaxed.
    static constexpr std::uint32_t tcp_opening_minimum = 120;
    static constexpr std::uint32_t tcp_closing_minimum = 240;
    static constexpr std::uint32_t tcp_transitory_default = 240;
    // RFC 5508 REQ-2: ICMP query mappings MUST NOT expire in less than 60 seconds.
    static constexpr std::uint32_t icmp_minimum = 60;

    std::uint32_t udp = 300;
    std::uint32_t tcp_established = tcp_established_minimum;
    std::uint32_t tcp_opening = tcp_transitory_default;  // SYN seen, handshake not complete
    std::uint32_t tcp_closing = tcp_transitory_default;  // FIN or RST seen, TIME_WAIT
    std::uint32_t icmp = icmp_minimum;

    constexpr bool operator==(const NatTimeouts&) const = default;
};

// What one LAN host may hold, and how much of the table flows nobody on the LAN asked
// for may take, so that neither a greedy host nor a spoofed-SYN flood from the WAN can
// fill the table for everyone (issue 7). Each is capped at max_mappings in effect.
struct FlowLimits {
    std::uint32_t flows_per_host = 16384;   // flows a LAN host starts (outbound, hairpin)
    std::uint32_t ports_per_host = 4096;    // mappings (external ports) a LAN host holds
    std::uint32_t embryonic_inbound = 8192;  // WAN-started flows not answered yet / TCP not established

    constexpr bool operator==(const FlowLimits&) const = default;
};

struct NatConfig {
    Ipv4Address wan_address;
    // External ports (and ICMP identifiers) the NAT may allocate. Internal ports inside
    // the range are preserved when free (RFC 4787 REQ-3 port preservation is a MAY; we
    // never preserve outside the range so that LAN hosts cannot take the gateway's own
    // service ports such as 22 or 53).
    PortRange port_range{1024, 65535};
    // RFC 4787 REQ-3 (RECOMMENDED): a TCP or UDP source port in 0-1023 gets its external
    // port from this range instead (preserved when free inside it). Unset by default: the
    // low ports are the gateway's own services'. config/ keeps it inside 1-1023.
    std::optional<PortRange> low_port_range;
    // RFC 5508 REQ-8 (SHOULD): a LAN packet no mapping can be made for is answered with an
    // ICMP administratively prohibited, within PacketEngine::no_mapping_unreachable_limit.
    bool unreachable_when_full = true;
    NatTimeouts timeouts;
    // Upper bound on concurrent mappings; a full table drops new flows with a counted reason.
    std::uint32_t max_mappings = 262144;
    FlowLimits limits;
    // The secret behind replacement ports (port_selection.hpp). All zeros is a valid,
    // public key: fine for tests, predictable on a router, so the daemon sets a random one.
    PortSelectionKey port_key{};
};

}  // namespace gw
