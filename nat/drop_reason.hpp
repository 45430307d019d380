// Why the engine refused a packet. Every drop has one reason, a name and a counter
// (the idea of pf's PFRES_* and Click's CheckIPHeader drop counts).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gw {

#define GW_DROP_REASONS(X)                                                                  \
    X(none, "not dropped")                                                                  \
    X(truncated_ip_header, "shorter than an IPv4 header")                                   \
    X(not_ipv4, "IP version is not 4")                                                      \
    X(bad_header_length, "IHL below 5 or beyond the packet")                                \
    X(bad_total_length, "total length below the header or beyond the buffer")              \
    X(bad_ip_checksum, "IPv4 header checksum is wrong")                                     \
    X(truncated_l4_header, "TCP/UDP/ICMP header cut short")                                 \
    X(unsupported_protocol, "protocol other than TCP, UDP or ICMP")                         \
    X(unsupported_icmp_type, "ICMP type the NAT cannot translate")                          \
    X(malformed_icmp_error, "ICMP error whose quoted datagram is unusable")                 \
    X(bad_icmp_error_checksum, "ICMP error whose checksum fails to validate")              \
    X(bad_quoted_ip_checksum, "ICMP error whose quoted IP header fails its checksum (RFC 5508 REQ-3)")\
    X(no_mapping_for_icmp_error, "ICMP error quoting a flow the NAT does not know")         \
    X(icmp_unreachable_not_from_remote, "WAN port/protocol unreachable about a flow, not sent by its remote host")\
    X(icmp_error_outside_tcp_window, "WAN ICMP error quoting a TCP sequence number outside the window (RFC 5927)")\
    X(icmp_error_for_other_host, "LAN host sent an ICMP error about another host's packet") \
    X(gateway_icmp_error_without_flow, "the gateway's own ICMP error to the WAN quoting a LAN address of no known flow")\
    X(not_addressed_to_gateway, "arrived on the WAN side for an address other than ours")   \
    X(tiny_first_fragment, "first fragment too short to hold the ports")                   \
    X(fragment_without_first, "later fragment whose first fragment was not seen or was dropped")\
    X(overlapping_fragment, "fragment overlapping or repeating one of its datagram (teardrop)")\
    X(empty_fragment, "fragment carrying no data")                                         \
    X(oversized_fragment, "fragment reaching past 65535 bytes once reassembled")           \
    X(malformed_fragment, "misaligned, past its datagram's end, or too scattered to follow")\
    X(bad_tcp_checksum, "TCP segment that would change its connection's state fails its checksum")\
    X(ports_exhausted, "no free external port in the configured range")                     \
    X(mapping_table_full, "mapping table at nat.max_mappings")                              \
    X(source_is_gateway, "outbound packet already carries the WAN address")                 \
    X(spoofed_lan_source, "arrived from the LAN with a source outside the LAN networks")    \
    X(lan_source_is_gateway, "arrived from the LAN with the gateway's own address, loopback or 0/8 as source")\
    X(lan_source_is_broadcast, "arrived from the LAN with a LAN network's network or broadcast address as source")\
    X(lan_source_unresolved, "LAN source with no neighbour entry yet: not proven to exist (the gateway asks for it)")\
    X(lan_source_wrong_mac, "frame's source MAC is not the neighbour entry of its source address: forged source")\
    X(wan_flow_to_gateway, "WAN-started flow that a mapping, forward or the DMZ would deliver to the gateway itself")\
    X(martian_wan_source, "arrived from the WAN with a LAN, loopback or martian source")    \
    X(invalid_tcp, "TCP segment invalid for its connection (flags, state or window)")      \
    X(filtered_by_mapping, "mapping exists but this remote may not use it (RFC 4787 REQ-8)")\
    X(denied_by_rule, "a rule said drop or reject")                                         \
    X(denied_by_policy, "no rule matched and the default policy is drop or reject")         \
    X(forward_source_not_allowed, "source not in the forward's allowed_sources")            \
    X(flow_table_full, "flow table at nat.max_mappings")                                    \
    X(host_flow_limit, "LAN host at nat.max_flows_per_host flows it started")               \
    X(host_port_limit, "LAN host at nat.max_ports_per_host external ports")                 \
    X(embryonic_limit, "WAN-started flows not yet answered at nat.max_embryonic_inbound")   \
    X(no_mapping, "LAN packet for the WAN address matching no hairpin flow")                \
    X(truncated_ipv6_header, "shorter than an IPv6 header, or not version 6")              \
    X(bad_ipv6_payload_length, "IPv6 payload length beyond the buffer, or a jumbogram")     \
    X(malformed_ipv6_extension_headers, "IPv6 extension header chain cut short, out of order, repeated, too long, or RH0 (RFC 8200, RFC 5095, RFC 7112)")\
    X(ipv6_link_scope_address, "link-local, multicast or unspecified IPv6 address: never forwarded")\
    X(ipv6_destination_outside_lan, "arrived from the WAN for an address outside lan.ipv6_networks")\
    X(icmpv6_link_scope_type, "NDP, MLD, redirect or other link-scope ICMPv6: never forwarded (RFC 4890 4.3.3)")\
    X(icmpv6_type_filtered, "ICMPv6 type or code a firewall does not forward (RFC 4890 4.3.4, 4.3.5)")\
    X(icmpv6_error_without_flow, "ICMPv6 error quoting a packet of no tracked IPv6 flow")    \
    X(ipv6_flow_table_full, "IPv6 flow table at firewall.ipv6.max_flows")                   \
    X(no_wan_address, "the WAN interface has no IPv4 address yet: nothing is forwarded (fail-closed)")

enum class DropReason : std::uint8_t {
#define GW_DROP_REASON_ENUM(name, text) name,
    GW_DROP_REASONS(GW_DROP_REASON_ENUM)
#undef GW_DROP_REASON_ENUM
    count_
};

inline constexpr std::size_t drop_reason_count = std::size_t(DropReason::count_);

std::string_view drop_reason_name(DropReason reason);
std::string_view drop_reason_description(DropReason reason);

// One counter per reason; index with the reason itself.
class DropCounters {
public:
    void count(DropReason reason) { ++counts_[std::size_t(reason)]; }
    std::uint64_t operator[](DropReason reason) const { return counts_[std::size_t(reason)]; }
    std::uint64_t total() const;

private:
    std::array<std::uint64_t, drop_reason_count> counts_{};
};

}  // namespace gw
