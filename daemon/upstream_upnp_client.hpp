// A UPnP IGD control point toward the NAT upstream of the WAN (an ISP modem's IGD,
// often miniupnpd), on Debian's libminiupnpc: SSDP M-SEARCH on the WAN interface only
// (multicast TTL 2, UDA 1.1 §1.3.2), the IGD's description, then its WANIPConnection
// (or WANPPPConnection) actions. The mapping's internal client is our WAN address and its
// internal port the local mapping's external port. One thread at a time (the upstream
// worker); libminiupnpc's calls block for at most its socket timeouts.
//
// The search leaves by the WAN although the daemon's OUTPUT backstop drops SSDP there:
// queue_rules.cpp lets an M-SEARCH from a port other than 1900 through (our own SSDP's
// NOTIFYs and answers, from 1900, stay dropped), and the engine lets the IGD's unicast
// answer to that port in for a few seconds (PacketEngine::track_local_output).
#pragma once

#include <memory>

#include "daemon/upstream_discovery.hpp"

struct UPNPUrls;
struct IGDdatas;

namespace gw {

class UpnpUpstreamClient final : public UpstreamClient {
public:
    // Searches the WAN side for an IGD (`timeouts.ssdp_wait`); no_answer when none answered.
    static Expected<std::unique_ptr<UpnpUpstreamClient>, UpstreamFailure> discover(const UpstreamWanSide& wan,
                                                                                  const UpstreamTimeouts& timeouts);
    ~UpnpUpstreamClient() override;

    UpstreamProtocol protocol() const override { return UpstreamProtocol::upnp; }
    std::string describe() const override;  // the control URL
    Expected<Ipv4Address, UpstreamFailure> external_address() override;
    // AddPortMapping for exactly the suggested port (the internal port when none): 718
    // ConflictInMappingEntry is port_taken. An IGD that only takes permanent leases (725,
    // IGD v1) is asked again with lease 0: the grant's lifetime is then 0, no expiry.
    Expected<UpstreamGrant, UpstreamFailure> map(const UpstreamRequest& request) override;
    // DeletePortMapping of the grant's external port; 714 NoSuchEntryInArray counts as done.
    std::optional<UpstreamFailure> unmap(Protocol protocol, Port internal_port, const UpstreamGrant& grant) override;

private:
    UpnpUpstreamClient(Ipv4Address wan_address, std::unique_ptr<UPNPUrls> urls, std::unique_ptr<IGDdatas> data);

    Ipv4Address wan_address_;
    std::unique_ptr<UPNPUrls> urls_;
    std::unique_ptr<IGDdatas> data_;
    std::optional<Ipv4Address> last_address_;
};

// What a UPnP error code (or one of libminiupnpc's negative UPNPCOMMAND_* codes) means
// for the carrier: 718 port_taken; 606 and the other action errors refused; the library's
// HTTP and parse failures no_answer or bad_answer. Pure.
UpstreamFailure upstream_failure_of_upnp(int code, std::string_view action);

}  // namespace gw
