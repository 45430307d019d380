// Both ends of one TCP connection numbering their segments as real stacks do (RFC 793
// §3.3): each side's next sequence number advances by its data, its SYN and its FIN,
// and every ACK acknowledges all the other side has sent. The firewall's state machine
// judges segments by these numbers, so tests whose TCP crosses the engine build it here.
//
// Each segment comes as sent and as it must look once the NAT has translated it, both
// built whole by packet_builder.hpp (so a byte-for-byte match proves the checksums).
#pragma once

#include <cstdint>

#include "packet_builder.hpp"

namespace gw::test {

// A packet as its sender put it on the wire, and as it must leave the gateway.
struct Crossing {
    Packet sent;
    Packet translated;
};

class TcpConnection {
public:
    // A LAN client behind the NAT talking to `server`, which sees it as `external`.
    static TcpConnection outbound(Endpoint lan_client, Endpoint server, Endpoint external) {
        return TcpConnection(lan_client, external, server, true);
    }
    // A remote client reaching `external` on the WAN address, which the gateway sends on to `lan_server`.
    static TcpConnection inbound(Endpoint remote_client, Endpoint external, Endpoint lan_server) {
        return TcpConnection(lan_server, external, remote_client, false);
    }

    Crossing from_client(std::uint8_t flags, const Bytes& payload = {}) {
        return segment(client_is_inside_, flags, payload, client_next_, server_next_);
    }
    Crossing from_server(std::uint8_t flags, const Bytes& payload = {}) {
        return segment(!client_is_inside_, flags, payload, server_next_, client_next_);
    }
    // A server segment at a sequence number of the test's choosing (out of window, say);
    // it acknowledges as usual and advances nothing.
    Crossing from_server_at(std::uint32_t sequence, std::uint8_t flags) {
        std::uint32_t next = sequence;
        return segment(!client_is_inside_, flags, {}, next, client_next_);
    }

    // The external endpoint the NAT gave the LAN client, for a connection whose replacement
    // port the engine drew (unpredictable by design): set once its SYN has crossed, before
    // the next segment is built.
    void external_is(Endpoint external) { external_ = external; }

    std::uint32_t client_next() const { return client_next_; }
    std::uint32_t server_next() const { return server_next_; }

private:
    TcpConnection(Endpoint inside, Endpoint external, Endpoint remote, bool client_is_inside)
        : inside_(inside), external_(external), remote_(remote), client_is_inside_(client_is_inside) {}

    // `next` is the sender's next sequence number, advanced here; `peer_next` what it acknowledges.
    Crossing segment(bool from_inside, std::uint8_t flags, const Bytes& payload, std::uint32_t& next,
                     std::uint32_t peer_next) {
        TcpNumbers numbers{next, peer_next};
        next += std::uint32_t(payload.size()) + ((flags & tcp_flag::syn) ? 1 : 0) + ((flags & tcp_flag::fin) ? 1 : 0);
        if (from_inside)
            return {tcp(inside_, remote_, flags, numbers, payload), tcp(external_, remote_, flags, numbers, payload)};
        return {tcp(remote_, external_, flags, numbers, payload), tcp(remote_, inside_, flags, numbers, payload)};
    }

    Endpoint inside_, external_, remote_;
    bool client_is_inside_;
    std::uint32_t client_next_ = 0x11110000;  // initial sequence numbers
    std::uint32_t server_next_ = 0x77770000;
};

}  // namespace gw::test
