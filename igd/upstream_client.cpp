#include "igd/upstream_client.hpp"

namespace gw {

std::string_view upstream_protocol_name(UpstreamProtocol protocol) {
    switch (protocol) {
        case UpstreamProtocol::pcp: return "pcp";
        case UpstreamProtocol::natpmp: return "natpmp";
        case UpstreamProtocol::upnp: return "upnp";
    }
    return "?";
}

}  // namespace gw
