#include "firewall/tcp_reset.hpp"

#include <cstring>

namespace gw {

bool write_tcp_reset(const wire::TcpHeader& in, std::uint32_t payload_length, wire::TcpHeader& reset) noexcept {
    if (in.flags & wire::TcpHeader::rst) return false;
    std::memset(&reset, 0, sizeof reset);
    reset.source_port.set(in.destination_port.get());
    reset.destination_port.set(in.source_port.get());
    reset.data_offset_reserved = 5 << 4;
    // RFC 793: if the offending segment has ACK, the reset takes its sequence from that
    // ACK; otherwise it has sequence 0 and acknowledges everything the segment occupied.
    if (in.flags & wire::TcpHeader::ack) {
        reset.sequence.set(in.acknowledgment.get());
        reset.flags = wire::TcpHeader::rst;
    } else {
        std::uint32_t length = payload_length;
        if (in.flags & wire::TcpHeader::syn) ++length;
        if (in.flags & wire::TcpHeader::fin) ++length;
        reset.acknowledgment.set(in.sequence.get() + length);
        reset.flags = wire::TcpHeader::rst | wire::TcpHeader::ack;
    }
    return true;
}

}  // namespace gw
