#include "upstream_upnp_client.hpp"

#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>

#include <cstring>

namespace gw {
namespace {

constexpr int upnp_conflict_in_mapping_entry = 718;
constexpr int upnp_no_such_entry_in_array = 714;
constexpr int upnp_only_permanent_leases_supported = 725;
constexpr unsigned char ssdp_ttl = 2;  // UDA 1.1: "SHOULD default to 2"
// What the mappings are called upstream, where the modem's status page lists them.
constexpr const char* mapping_description = "gatewayd (cascaded)";

const char* protocol_text(Protocol protocol) { return protocol == Protocol::tcp ? "TCP" : "UDP"; }

struct DeviceList {
    UPNPDev* devices = nullptr;
    ~DeviceList() { freeUPNPDevlist(devices); }
};

}  // namespace

UpstreamFailure upstream_failure_of_upnp(int code, std::string_view action) {
    std::string what = std::string(action) + ": ";
    switch (code) {
        case UPNPCOMMAND_HTTP_ERROR:
        case UPNPCOMMAND_UNKNOWN_ERROR:
            return {UpstreamFailure::Kind::no_answer, what + "no HTTP answer from the IGD"};
        case UPNPCOMMAND_INVALID_RESPONSE:
            return {UpstreamFailure::Kind::bad_answer, what + "the IGD's answer does not parse"};
        case UPNPCOMMAND_INVALID_ARGS:
        case UPNPCOMMAND_MEM_ALLOC_ERROR:
            return {UpstreamFailure::Kind::refused, what + "libminiupnpc refused the call (" + std::to_string(code) + ")"};
    }
    const char* text = code > 0 ? strupnperror(code) : nullptr;
    std::string words = std::to_string(code) + (text ? std::string(" ") + text : std::string());
    if (code == upnp_conflict_in_mapping_entry) return {UpstreamFailure::Kind::port_taken, what + words};
    return {UpstreamFailure::Kind::refused, what + words};
}

Expected<std::unique_ptr<UpnpUpstreamClient>, UpstreamFailure> UpnpUpstreamClient::discover(
    const UpstreamWanSide& wan, const UpstreamTimeouts& timeouts) {
    if (wan.address == Ipv4Address())
        return unexpected(UpstreamFailure{UpstreamFailure::Kind::no_answer, "no WAN address to search from"});
    const std::string source = wan.address.to_string();
    int error = 0;
    DeviceList list;
    // The WAN address as multicastif: the search leaves by the WAN interface only. An
    // empty minissdpd path: no local minissdpd is asked (it would know the LAN's devices).
    list.devices = upnpDiscover(int(timeouts.ssdp_wait.count()), source.c_str(), "", UPNP_LOCAL_PORT_ANY, 0,
                                ssdp_ttl, &error);
    if (!list.devices)
        return unexpected(UpstreamFailure{UpstreamFailure::Kind::no_answer,
                                          "no IGD answered an SSDP M-SEARCH on " + wan.interface + " within " +
                                              std::to_string(timeouts.ssdp_wait.count()) + " ms" +
                                              (error != 0 ? " (error " + std::to_string(error) + ")" : "")});
    auto urls = std::make_unique<UPNPUrls>();
    auto data = std::make_unique<IGDdatas>();
    std::memset(urls.get(), 0, sizeof *urls);
    std::memset(data.get(), 0, sizeof *data);
    char local[64] = {};
    // 1: a connected IGD; 2: an IGD that says it is not connected (or, in newer
    // libminiupnpc, one whose own address is reserved: a cascade upstream of ours): both
    // are asked; GetExternalIPAddress says whether it can serve. 3: no IGD among them.
    int found = UPNP_GetValidIGD(list.devices, urls.get(), data.get(), local, sizeof local);
    if (found != 1 && found != 2) {
        FreeUPNPUrls(urls.get());  // free(NULL) for what was never set
        return unexpected(UpstreamFailure{UpstreamFailure::Kind::refused,
                                          "devices answered on " + wan.interface + " but none is an IGD"});
    }
    std::unique_ptr<UpnpUpstreamClient> client(new UpnpUpstreamClient(wan.address, std::move(urls), std::move(data)));
    if (std::string_view(local) != source)
        return unexpected(UpstreamFailure{UpstreamFailure::Kind::refused,
                                          "the IGD at " + client->describe() + " is reached from " + local +
                                              ", not from the WAN address " + source});
    return client;
}

UpnpUpstreamClient::UpnpUpstreamClient(Ipv4Address wan_address, std::unique_ptr<UPNPUrls> urls,
                                       std::unique_ptr<IGDdatas> data)
    : wan_address_(wan_address), urls_(std::move(urls)), data_(std::move(data)) {}

UpnpUpstreamClient::~UpnpUpstreamClient() { FreeUPNPUrls(urls_.get()); }

std::string UpnpUpstreamClient::describe() const { return urls_->controlURL ? urls_->controlURL : "?"; }

Expected<Ipv4Address, UpstreamFailure> UpnpUpstreamClient::external_address() {
    char text[40] = {};
    int code = UPNP_GetExternalIPAddress(urls_->controlURL, data_->first.servicetype, text);
    if (code != UPNPCOMMAND_SUCCESS) return unexpected(upstream_failure_of_upnp(code, "GetExternalIPAddress"));
    auto address = Ipv4Address::parse(text);
    if (!address || *address == Ipv4Address())
        return unexpected(UpstreamFailure{UpstreamFailure::Kind::bad_answer,
                                          "GetExternalIPAddress: '" + std::string(text) + "' is no IPv4 address"});
    last_address_ = *address;
    return *address;
}

Expected<UpstreamGrant, UpstreamFailure> UpnpUpstreamClient::map(const UpstreamRequest& request) {
    if (!last_address_) {
        auto address = external_address();
        if (!address) return unexpected(std::move(address).error());
    }
    Port external = request.suggested_external.value != 0 ? request.suggested_external : request.internal_port;
    const std::string external_text = std::to_string(external.value);
    const std::string internal_text = std::to_string(request.internal_port.value);
    const std::string client = wan_address_.to_string();
    std::string lease = std::to_string(request.lifetime.count());
    int code = UPNP_AddPortMapping(urls_->controlURL, data_->first.servicetype, external_text.c_str(),
                                   internal_text.c_str(), client.c_str(), mapping_description,
                                   protocol_text(request.protocol), nullptr, lease.c_str());
    if (code == upnp_only_permanent_leases_supported) {
        lease = "0";
        code = UPNP_AddPortMapping(urls_->controlURL, data_->first.servicetype, external_text.c_str(),
                                   internal_text.c_str(), client.c_str(), mapping_description,
                                   protocol_text(request.protocol), nullptr, lease.c_str());
    }
    if (code != UPNPCOMMAND_SUCCESS) return unexpected(upstream_failure_of_upnp(code, "AddPortMapping"));
    UpstreamGrant grant;
    grant.via = UpstreamProtocol::upnp;
    grant.external_address = *last_address_;
    grant.external_port = external;
    grant.lifetime = std::chrono::seconds(std::stoll(lease));
    return grant;
}

std::optional<UpstreamFailure> UpnpUpstreamClient::unmap(Protocol protocol, Port, const UpstreamGrant& grant) {
    const std::string external_text = std::to_string(grant.external_port.value);
    int code = UPNP_DeletePortMapping(urls_->controlURL, data_->first.servicetype, external_text.c_str(),
                                      protocol_text(protocol), nullptr);
    if (code == UPNPCOMMAND_SUCCESS || code == upnp_no_such_entry_in_array) return std::nullopt;
    return upstream_failure_of_upnp(code, "DeletePortMapping");
}

}  // namespace gw
