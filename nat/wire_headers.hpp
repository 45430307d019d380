// IPv4, TCP, UDP and ICMP headers as they sit on the wire. Multi-byte fields are
// big-endian byte arrays (Be16/Be32) whose get/set are the one place where byte
// order is converted; with alignment 1 the structs may overlay any byte of a buffer
// (a pcap frame puts the IP header at offset 14) without undefined behaviour.
#pragma once

#include <cstddef>
#include <cstdint>

#include "endpoint.hpp"

namespace gw::wire {

class Be16 {
public:
    std::uint16_t get() const { return std::uint16_t((bytes_[0] << 8) | bytes_[1]); }
    void set(std::uint16_t v) {
        bytes_[0] = std::uint8_t(v >> 8);
        bytes_[1] = std::uint8_t(v);
    }

private:
    std::uint8_t bytes_[2];
};

class Be32 {
public:
    std::uint32_t get() const {
        return (std::uint32_t(bytes_[0]) << 24) | (std::uint32_t(bytes_[1]) << 16) |
               (std::uint32_t(bytes_[2]) << 8) | bytes_[3];
    }
    void set(std::uint32_t v) {
        for (int i = 0; i < 4; ++i) bytes_[i] = std::uint8_t(v >> (24 - 8 * i));
    }

private:
    std::uint8_t bytes_[4];
};

struct Ipv4Header {
    std::uint8_t version_ihl;
    std::uint8_t tos;
    Be16 total_length_field;
    Be16 identification_field;
    Be16 flags_fragment;
    std::uint8_t ttl;
    std::uint8_t protocol;
    Be16 checksum;
    Be32 source_field;
    Be32 destination_field;

    static constexpr std::uint16_t dont_fragment_flag = 0x4000;
    static constexpr std::uint16_t more_fragments_flag = 0x2000;
    static constexpr std::uint16_t fragment_offset_mask = 0x1fff;

    std::uint8_t version() const { return version_ihl >> 4; }
    std::size_t header_length() const { return std::size_t(version_ihl & 0x0f) * 4; }
    std::uint16_t total_length() const { return total_length_field.get(); }
    std::uint16_t identification() const { return identification_field.get(); }
    bool dont_fragment() const { return flags_fragment.get() & dont_fragment_flag; }
    bool more_fragments() const { return flags_fragment.get() & more_fragments_flag; }
    std::uint16_t fragment_offset_units() const { return flags_fragment.get() & fragment_offset_mask; }
    bool is_fragment() const { return more_fragments() || fragment_offset_units() != 0; }
    Ipv4Address source() const { return Ipv4Address(source_field.get()); }
    Ipv4Address destination() const { return Ipv4Address(destination_field.get()); }
    void set_source(Ipv4Address a) { source_field.set(a.host_order()); }
    void set_destination(Ipv4Address a) { destination_field.set(a.host_order()); }
};
static_assert(sizeof(Ipv4Header) == 20 && alignof(Ipv4Header) == 1);

struct TcpHeader {
    Be16 source_port;
    Be16 destination_port;
    Be32 sequence;
    Be32 acknowledgment;
    std::uint8_t data_offset_reserved;
    std::uint8_t flags;
    Be16 window;
    Be16 checksum;
    Be16 urgent_pointer;

    static constexpr std::uint8_t fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10, urg = 0x20;
    // Offset of the checksum field: an ICMP error quotes only 8 bytes of the header for sure.
    static constexpr std::size_t checksum_offset = 16;

    std::size_t header_length() const { return std::size_t(data_offset_reserved >> 4) * 4; }
};
static_assert(sizeof(TcpHeader) == 20 && alignof(TcpHeader) == 1);

struct UdpHeader {
    Be16 source_port;
    Be16 destination_port;
    Be16 length;
    Be16 checksum;
};
static_assert(sizeof(UdpHeader) == 8 && alignof(UdpHeader) == 1);

// The first 8 bytes of every ICMP message. For echo request/reply the rest-of-header
// carries identifier and sequence; for errors it is unused (or the MTU) and the
// quoted datagram follows.
struct IcmpHeader {
    std::uint8_t type;
    std::uint8_t code;
    Be16 checksum;
    Be16 identifier;
    Be16 sequence;

    static constexpr std::uint8_t echo_reply = 0, destination_unreachable = 3, echo_request = 8,
                                  time_exceeded = 11, parameter_problem = 12;
};
static_assert(sizeof(IcmpHeader) == 8 && alignof(IcmpHeader) == 1);

}  // namespace gw::wire
