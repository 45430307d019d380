#include "igd/upstream_announcement.hpp"

#include <variant>

#include "igd/natpmp_message.hpp"
#include "igd/pcp_message.hpp"

namespace gw {
namespace {

// RFC 6887 §14.1.3: an ANNOUNCE response, SUCCESS; its epoch tells the restart, but any
// ANNOUNCE from the server is reason enough to renew (§14.1.3: "the client ... SHOULD
// renew"). RFC 6886 §3.2.1: an external-address response, result 0, sent unasked.
// The announcement's epoch, or nullopt for anything else.
std::optional<std::uint32_t> announcement_epoch(std::span<const std::uint8_t> payload) {
    if (auto pcp = decode_pcp_response(payload)) {
        if (pcp->opcode == PcpOpcode::announce && pcp->result == PcpResult::success) return pcp->epoch_seconds;
        return std::nullopt;
    }
    if (auto natpmp = decode_natpmp_response(payload)) {
        auto* address = std::get_if<NatPmpExternalAddressResponse>(&*natpmp);
        if (address && address->result == NatPmpResult::success) return address->epoch_seconds;
    }
    return std::nullopt;
}

}  // namespace

std::string_view announcement_verdict_name(AnnouncementVerdict verdict) {
    switch (verdict) {
        case AnnouncementVerdict::from_upstream: return "from_upstream";
        case AnnouncementVerdict::no_upstream: return "no_upstream";
        case AnnouncementVerdict::not_from_upstream: return "not_from_upstream";
        case AnnouncementVerdict::wrong_source_port: return "wrong_source_port";
        case AnnouncementVerdict::wrong_destination: return "wrong_destination";
        case AnnouncementVerdict::not_an_announcement: return "not_an_announcement";
    }
    return "not_an_announcement";
}

AnnouncementJudgement judge_upstream_announcement(const AnnouncementDatagram& datagram,
                                                  const std::optional<AnnouncingUpstream>& upstream) {
    if (!upstream) return {AnnouncementVerdict::no_upstream};
    if (datagram.source.address != upstream->server) return {AnnouncementVerdict::not_from_upstream};
    if (datagram.source.port.value != pcp_server_port) return {AnnouncementVerdict::wrong_source_port};
    if (datagram.destination != upstream->wan_address && datagram.destination != all_hosts_group)
        return {AnnouncementVerdict::wrong_destination};
    auto epoch = announcement_epoch(datagram.payload);
    if (!epoch) return {AnnouncementVerdict::not_an_announcement};
    return {AnnouncementVerdict::from_upstream, *epoch};
}

}  // namespace gw
