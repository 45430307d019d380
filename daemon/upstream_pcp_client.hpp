// PCP (RFC 6887) toward the NAT upstream of the WAN: MAP requests from our WAN address to
// the server (the WAN default gateway) on port 5351. The messages are igd/pcp_map_exchange's,
// the socket upstream_udp's. One thread at a time (the upstream worker).
//
// external_address(): PCP has no request for the address alone; RFC 6887 §11.6 learns it
// with a short-lived MAP (of the discard port) and deleting it. The discard port 9 is
// refused by the upstreams we meet most (miniupnpd's and gatewayd's permission rules allow
// ports 1024-65535), so the MAP here is of the UDP port the request leaves from: ours for
// the exchange, above 1023, and deleted (lifetime 0, the same nonce) once the address is
// known. Both servers we test against (gatewayd's igd/pcp_responder.cpp and miniupnpd's
// pcpserver.c) answer it with the assigned address.
#pragma once

#include "daemon/upstream_discovery.hpp"
#include "igd/pcp_map_exchange.hpp"

namespace gw {

class PcpUpstreamClient final : public UpstreamClient {
public:
    PcpUpstreamClient(Ipv4Address wan_address, Ipv4Address server, const UpstreamTimeouts& timeouts);

    UpstreamProtocol protocol() const override { return UpstreamProtocol::pcp; }
    std::string describe() const override;
    std::optional<Ipv4Address> announcing_server() const override { return server_.address; }
    Expected<Ipv4Address, UpstreamFailure> external_address() override;
    Expected<UpstreamGrant, UpstreamFailure> map(const UpstreamRequest& request) override;
    std::optional<UpstreamFailure> unmap(Protocol protocol, Port internal_port, const UpstreamGrant& grant) override;

private:
    Expected<PcpMapAnswer, UpstreamFailure> ask(class UpstreamUdpSession& session, const PcpMapAsk& ask);

    Ipv4Address wan_address_;
    Endpoint server_;
    UpstreamTimeouts timeouts_;
};

// A fresh mapping nonce (RFC 6887 §11.1: random, so that no one off the path can guess it).
PcpNonce random_pcp_nonce();

}  // namespace gw
