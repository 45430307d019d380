#include "igd/upstream_announcement.hpp"

#include <variant>

#include "igd/natpmp_message.hpp"
#include "igd/pcp_message.hpp"

namespace gw {
namespace {

// RFC 6887 §14.1.3: an ANNOUNCE response, SUCCESS; its epoch tells the restart, but any
// ANNOUNCE from the server is reason enough to renew (§14.1.3: "the client ... SHOULD
// renew"). RFC 6886 §3.2.1: an external-address response, result 0, sent unasked.
bool is_announcement(std::span<const std::uint8_t> payload) {
    if (auto pcp = decode_pcp_response(payload))
        return pcp->opcode == PcpOpcode::announce && pcp->result == PcpResult::success;
    if (auto natpmp = decode_natpmp_response(payload)) {
        auto* address = std::get_if<NatPmpExternalAddressResponse>(&*natpmp);
        return address && address->result == NatPmpResult::success;
    }
    return false;
}

}  // namespace

std::string_view announcement_verdict_name(AnnouncementVerdict verdict) {
    switch (verdict) {
        case AnnouncementVerdict::upstream_restarted: return "upstream_restarted";
        case AnnouncementVerdict::no_upstream: return "no_upstream";
        case AnnouncementVerdict::not_from_upstream: return "not_from_upstream";
        case AnnouncementVerdict::wrong_source_port: return "wrong_source_port";
        case AnnouncementVerdict::wrong_destination: return "wrong_destination";
        case AnnouncementVerdict::not_an_announcement: return "not_an_announcement";
    }
    return "not_an_announcement";
}

AnnouncementVerdict judge_upstream_announcement(const AnnouncementDatagram& datagram,
                                                const std::optional<AnnouncingUpstream>& upstream) {
    if (!upstream) return AnnouncementVerdict::no_upstream;
    if (datagram.source.address != upstream->server) return AnnouncementVerdict::not_from_upstream;
    if (datagram.source.port.value != pcp_server_port) return AnnouncementVerdict::wrong_source_port;
    if (datagram.destination != upstream->wan_address && datagram.destination != all_hosts_group)
        return AnnouncementVerdict::wrong_destination;
    if (!is_announcement(datagram.payload)) return AnnouncementVerdict::not_an_announcement;
    return AnnouncementVerdict::upstream_restarted;
}

}  // namespace gw
