#include "upstream_discovery.hpp"

#include <fstream>
#include <sstream>

#include "upstream_natpmp_client.hpp"
#include "upstream_pcp_client.hpp"
#include "upstream_upnp_client.hpp"

namespace gw {
namespace {

using Clock = std::chrono::steady_clock;

constexpr unsigned route_flag_up = 0x1, route_flag_gateway = 0x2;  // RTF_UP, RTF_GATEWAY

// /proc/net/route prints addresses as the kernel holds them: network order, read as a
// little-endian host's hex word.
std::optional<Ipv4Address> route_address(const std::string& hex) {
    std::uint32_t raw = 0;
    try {
        std::size_t used = 0;
        raw = std::uint32_t(std::stoul(hex, &used, 16));
        if (used != hex.size() || hex.size() != 8) return std::nullopt;
    } catch (const std::exception&) {
        return std::nullopt;
    }
    return Ipv4Address::from_octets(std::uint8_t(raw), std::uint8_t(raw >> 8), std::uint8_t(raw >> 16),
                                    std::uint8_t(raw >> 24));
}

}  // namespace

std::vector<UpstreamProtocol> upstream_protocol_order(std::optional<UpstreamProtocol> only) {
    if (only) return {*only};
    return {UpstreamProtocol::pcp, UpstreamProtocol::natpmp, UpstreamProtocol::upnp};
}

std::optional<Ipv4Address> parse_default_gateway(std::string_view proc_net_route, std::string_view interface) {
    std::istringstream lines{std::string(proc_net_route)};
    std::string line;
    std::getline(lines, line);  // the header: Iface Destination Gateway Flags RefCnt Use Metric Mask ...
    std::optional<Ipv4Address> best;
    long best_metric = 0;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string name, destination, gateway, flags_hex, refcnt, use, metric_text, mask;
        if (!(fields >> name >> destination >> gateway >> flags_hex >> refcnt >> use >> metric_text >> mask)) continue;
        if (name != interface || destination != "00000000" || mask != "00000000") continue;
        unsigned flags = 0;
        long metric = 0;
        try {
            flags = unsigned(std::stoul(flags_hex, nullptr, 16));
            metric = std::stol(metric_text);
        } catch (const std::exception&) {
            continue;
        }
        if ((flags & (route_flag_up | route_flag_gateway)) != (route_flag_up | route_flag_gateway)) continue;
        auto address = route_address(gateway);
        if (!address || *address == Ipv4Address()) continue;
        if (!best || metric < best_metric) {  // the kernel uses the lowest metric
            best = address;
            best_metric = metric;
        }
    }
    return best;
}

std::optional<Ipv4Address> wan_default_gateway(std::string_view interface) {
    std::ifstream file("/proc/net/route");
    if (!file) return std::nullopt;
    std::stringstream text;
    text << file.rdbuf();
    return parse_default_gateway(text.str(), interface);
}

Expected<std::unique_ptr<UpstreamClient>, UpstreamFailure> make_upstream_client(UpstreamProtocol protocol,
                                                                                 const UpstreamWanSide& wan,
                                                                                 const UpstreamTimeouts& timeouts) {
    if (protocol == UpstreamProtocol::upnp) {
        auto client = UpnpUpstreamClient::discover(wan, timeouts);
        if (!client) return unexpected(std::move(client).error());
        return std::unique_ptr<UpstreamClient>(std::move(*client));
    }
    if (!wan.gateway)
        return unexpected(UpstreamFailure{UpstreamFailure::Kind::no_answer,
                                          "no IPv4 default gateway on " + wan.interface + " to ask"});
    if (protocol == UpstreamProtocol::pcp)
        return std::unique_ptr<UpstreamClient>(std::make_unique<PcpUpstreamClient>(wan.address, *wan.gateway, timeouts));
    return std::unique_ptr<UpstreamClient>(std::make_unique<NatPmpUpstreamClient>(wan.address, *wan.gateway, timeouts));
}

UpstreamDiscovery discover_upstream(std::span<const UpstreamProtocol> order, const UpstreamWanSide& wan,
                                    const UpstreamTimeouts& timeouts) {
    UpstreamDiscovery found;
    for (UpstreamProtocol protocol : order) {
        const auto start = Clock::now();
        UpstreamAttempt attempt;
        attempt.protocol = protocol;
        auto client = make_upstream_client(protocol, wan, timeouts);
        if (client) {
            attempt.where = (*client)->describe();
            auto address = (*client)->external_address();
            if (address) {
                found.client = std::move(*client);
                found.external_address = *address;
            } else {
                attempt.failure = std::move(address).error();
            }
        } else {
            attempt.failure = std::move(client).error();
        }
        attempt.took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        found.attempts.push_back(std::move(attempt));
        if (found.client) break;
    }
    return found;
}

}  // namespace gw
