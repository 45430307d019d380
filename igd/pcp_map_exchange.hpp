// The client side of a PCP MAP (RFC 6887 §11), as gatewayd speaks it to the NAT upstream
// of its WAN (issue 19): the request's bytes and the reading of what came back. Pure: the
// socket and the retransmissions are daemon/upstream_pcp_client.cpp's.
//
// gatewayd is a NAT itself, so what it maps upstream is its own WAN address: the request's
// client address and the mapping's internal address are that address, with no THIRD_PARTY
// option (RFC 7648 §5: a proxy maps for its own external address, not for its hosts').
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/expected.hpp"
#include "igd/pcp_message.hpp"
#include "igd/upstream_client.hpp"

namespace gw {

struct PcpMapAsk {
    Ipv4Address client;       // our WAN address: the source, the client address field
    PcpNonce nonce{};         // the mapping's (§11.1); a renewal or a delete repeats it
    std::uint8_t protocol = 0;  // IANA number: 6 TCP, 17 UDP
    Port internal_port;
    Port suggested_external;         // 0: no suggestion
    Ipv4Address suggested_address;   // 0.0.0.0: no suggestion
    std::uint32_t lifetime = 0;      // 0: delete (§15)
};

struct PcpMapAnswer {
    Ipv4Address external_address;
    Port external_port;
    std::uint32_t lifetime = 0;
    std::uint32_t epoch_seconds = 0;
};

std::vector<std::uint8_t> encode_pcp_map_ask(const PcpMapAsk& ask);

// What a datagram from the server says about `ask`. nullopt: it is not the answer to it
// (another opcode, nonce, protocol or internal port: a late answer to an earlier request,
// or not PCP at all): keep waiting. Otherwise the grant, or why not:
//   SUCCESS                         -> the assigned address, port, lifetime and epoch
//                                      (bad_answer when the address is not IPv4 or the
//                                      port is 0 on a mapping that lives);
//   CANNOT_PROVIDE_EXTERNAL         -> port_taken;
//   (a SUCCESS whose lifetime is 0 for a create, or not 0 for a delete, is a late copy
//   of the other: not the answer);
//   any other result code           -> refused, with the RFC's name and the lifetime the
//                                      server gave the error (§7.4: how long it stands);
//   NAT-PMP's "unsupported version" -> refused: the server speaks NAT-PMP only (§9).
std::optional<Expected<PcpMapAnswer, UpstreamFailure>> read_pcp_map_answer(const PcpMapAsk& ask,
                                                                           std::span<const std::uint8_t> datagram);

// The UpstreamFailure kind of a PCP result code other than SUCCESS.
UpstreamFailure::Kind upstream_failure_kind_of(PcpResult result);

}  // namespace gw
