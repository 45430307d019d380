// NAT-PMP (RFC 6886) toward the NAT upstream of the WAN: opcode 0 (the public address)
// and 1/2 (map UDP/TCP) from our WAN address to the WAN default gateway's port 5351.
// The messages are igd/natpmp_message's and natpmp_exchange's, the socket upstream_udp's.
// NAT-PMP has no nonce: a mapping is its internal port's (§3.3), so grants carry none.
// One thread at a time (the upstream worker).
#pragma once

#include "daemon/upstream_discovery.hpp"
#include "igd/natpmp_exchange.hpp"

namespace gw {

class NatPmpUpstreamClient final : public UpstreamClient {
public:
    NatPmpUpstreamClient(Ipv4Address wan_address, Ipv4Address server, const UpstreamTimeouts& timeouts);

    UpstreamProtocol protocol() const override { return UpstreamProtocol::natpmp; }
    std::string describe() const override;
    std::optional<Ipv4Address> announcing_server() const override { return server_.address; }
    Expected<Ipv4Address, UpstreamFailure> external_address() override;
    // The grant's address is the last opcode 0 answer (asked first when there is none).
    Expected<UpstreamGrant, UpstreamFailure> map(const UpstreamRequest& request) override;
    // Lifetime 0 and suggested external port 0 (§3.4).
    std::optional<UpstreamFailure> unmap(Protocol protocol, Port internal_port, const UpstreamGrant& grant) override;

private:
    Expected<NatPmpMappingAnswer, UpstreamFailure> ask(const NatPmpMappingRequest& request);

    Ipv4Address wan_address_;
    Endpoint server_;
    UpstreamTimeouts timeouts_;
    std::optional<Ipv4Address> last_address_;
};

}  // namespace gw
