#include "wan_status.hpp"

#include "control_json.hpp"

namespace gw {

std::string_view cascade_name(Cascade cascade) {
    switch (cascade) {
        case Cascade::unknown: return "unknown";
        case Cascade::no: return "no";
        case Cascade::yes: return "yes";
    }
    return "unknown";
}

std::string_view stun_state_name(StunState state) {
    switch (state) {
        case StunState::not_configured: return "not configured";
        case StunState::asking: return "asking";
        case StunState::answered: return "answered";
        case StunState::failed: return "failed";
    }
    return "unknown";
}

WanStatus wan_status_for(Ipv4Address wan_address, const std::optional<StunServerConfig>& stun_server,
                         CascadeMappings cascade_mappings) {
    WanStatus s;
    s.wan_address = wan_address;
    s.classification = classify_ipv4(wan_address);
    s.stun_server = stun_server;
    s.stun = stun_server ? StunState::asking : StunState::not_configured;
    s.cascade_mappings = cascade_mappings;
    return s;
}

WanStatus wan_status_after_change(const WanStatus& before, Ipv4Address wan_address) {
    WanStatus s = wan_status_for(wan_address, before.stun_server, before.cascade_mappings);
    if (s.stun == StunState::asking && before.stun == StunState::answered && before.stun_mapped &&
        before.cascade() == Cascade::yes)
        s.public_before_change = before.stun_mapped->address;
    return s;
}

Cascade WanStatus::cascade() const {
    if (stun == StunState::answered && stun_mapped)
        return stun_mapped->address == wan_address ? Cascade::no : Cascade::yes;
    if (implies_upstream_nat(classification.address_class)) return Cascade::yes;
    if (classification.address_class == AddressClass::public_unicast) return Cascade::no;
    return Cascade::unknown;
}

Ipv4Address WanStatus::external_address() const {
    if (upstream_address) return *upstream_address;
    if (stun == StunState::answered && stun_mapped) return stun_mapped->address;
    if (stun == StunState::asking && public_before_change) return *public_before_change;
    return wan_address;
}

bool WanStatus::refusing_mappings() const {
    return cascade_mappings == CascadeMappings::refuse && cascade() == Cascade::yes && !upstream_address;
}

std::optional<std::string> WanStatus::warning() const {
    const std::string address = wan_address.to_string();
    const std::string kind = std::string(address_class_name(classification.address_class)) +
                             (classification.rfc.empty() ? "" : " (" + std::string(classification.rfc) + ")");
    const std::string consequence =
        upstream_address ? "port mappings are carried through it (wan.upstream_mappings): the internet reaches them at " +
                               upstream_address->to_string()
        : refusing_mappings()
                                        ? "port mappings will not be reachable from the internet, so they are refused "
                                          "(wan.cascade_mappings: refuse)"
                                        : "port mappings will not be reachable from the internet";
    const bool answered = stun == StunState::answered && stun_mapped;
    const std::string seen = answered ? " (the internet sees " + stun_mapped->address.to_string() + ")" : "";
    switch (cascade()) {
        case Cascade::no: return std::nullopt;
        case Cascade::yes:
            if (implies_upstream_nat(classification.address_class))
                return "WAN address " + address + " is " + kind + ": another NAT is upstream" + seen + "; " + consequence;
            return "WAN address " + address + " is not the address the internet sees (STUN: " +
                   stun_mapped->address.to_string() + "): another NAT is upstream; " + consequence;
        case Cascade::unknown:
            return "WAN address " + address + " is " + kind +
                   ", not routable on the internet: port mappings may not be reachable from the internet" +
                   (stun_server ? std::string() : std::string(" (set wan.stun to find out)"));
    }
    return std::nullopt;
}

std::string WanStatus::json() const {
    JsonObject o;
    o.add("address", wan_address.to_string());
    o.add("class", address_class_name(classification.address_class));
    if (classification.rfc.empty()) o.add_null("rfc");
    else o.add("rfc", classification.rfc);
    if (stun_server) o.add("stun_server", stun_server->to_string());
    else o.add_null("stun_server");
    o.add("stun", stun_state_name(stun));
    if (stun == StunState::answered && stun_mapped) o.add("public_address", stun_mapped->address.to_string());
    else o.add_null("public_address");
    if (stun == StunState::failed) o.add("stun_problem", stun_problem);
    o.add("cascade", cascade_name(cascade()));
    o.add("reported_external_address", external_address().to_string());
    if (upstream_address) o.add("upstream_address", upstream_address->to_string());
    o.add("mapping_grants", refusing_mappings() ? "refused" : "granted");
    return o.str();
}

std::optional<std::string> wan_lan_overlap_warning(const std::string& wan_interface, const Ipv4Network& wan_network,
                                                   const std::vector<Ipv4Network>& lan_networks) {
    for (const Ipv4Network& lan : lan_networks) {
        if (lan.prefix_length <= 1) continue;
        // Two blocks overlap exactly when one holds the other's first address.
        if (!lan.contains(wan_network.base) && !wan_network.contains(lan.base)) continue;
        return wan_interface + "'s network " + wan_network.to_string() + " overlaps lan.networks " + lan.to_string() +
               ": LAN hosts reach addresses in the overlap on the LAN, never through the gateway, so WAN hosts there "
               "are unreachable (RFC 4787 REQ-7); number the LAN outside the WAN's network";
    }
    return std::nullopt;
}

}  // namespace gw
