// gatewayctl's IPv6 views and pinhole commands (issue 8): the IPv6 part of `status`,
// `flows6`, `pinholes`, and `pinhole add|delete` — the administrator's way to open what a
// UPnP WANIPv6FirewallControl or PCP client would, through the same pinhole service: the
// service numbers it among the others, journals it, and its policy refuses what the
// packet path would not honour (an address outside lan.ipv6_networks).
#include <charconv>

#include "base/log.hpp"
#include "control_flow_snapshot.hpp"
#include "control_json.hpp"
#include "gateway_control.hpp"
#include "igd/pinhole_service.hpp"

namespace gw {
namespace {

// "gateway" / "to-gateway": its own flows, as the IPv4 flow list names them.
const char* ipv6_origin_name(Ipv6FlowOrigin origin) {
    switch (origin) {
        case Ipv6FlowOrigin::lan: return "lan";
        case Ipv6FlowOrigin::wan: return "wan";
        case Ipv6FlowOrigin::gateway: return "gateway";
        case Ipv6FlowOrigin::to_gateway: return "to-gateway";
    }
    return "lan";
}

std::string protocol_text(std::uint16_t protocol) {
    switch (protocol) {
        case 6: return "tcp";
        case 17: return "udp";
        case 58: return "icmpv6";
        case any_ip_protocol: return "any";
        default: return std::to_string(protocol);
    }
}

std::optional<std::uint16_t> number_in(std::string_view text, unsigned low, unsigned high) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < low || value > high)
        return std::nullopt;
    return std::uint16_t(value);
}

std::optional<std::uint16_t> pinhole_protocol(std::string_view text) {
    if (text == "tcp") return ip_protocol_tcp;
    if (text == "udp") return ip_protocol_udp;
    if (text == "any") return any_ip_protocol;
    return std::nullopt;
}

// "30", "30s", "10m", "2h": a pinhole lease, 1 s to a day (A_ARG_TYPE_LeaseTime's range).
std::optional<std::uint32_t> lease_seconds(std::string_view text) {
    std::uint32_t unit = 1;
    if (!text.empty() && (text.back() == 's' || text.back() == 'm' || text.back() == 'h')) {
        unit = text.back() == 'h' ? 3600 : text.back() == 'm' ? 60 : 1;
        text.remove_suffix(1);
    }
    std::uint32_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0 ||
        std::uint64_t(value) * unit > max_pinhole_lease_seconds)
        return std::nullopt;
    return value * unit;
}

std::string refusal_text(PinholeRefusal refusal) {
    UpnpError error = upnp_error_of(refusal);
    return std::string(upnp_error_description(error)) + " (" + std::to_string(int(error)) + ")";
}

std::string pinhole_row(const PinholeTable::Entry& e) {
    const Pinhole& p = e.pinhole;
    return JsonObject()
        .add("id", std::uint64_t(p.id))
        .add("protocol", protocol_text(p.protocol))
        .add("internal_client", p.internal_client.to_string())
        .add("internal_port", std::uint64_t(p.internal_port))
        .add("remote_host", p.remote_host ? p.remote_host->to_string() : "*")
        .add("remote_port", std::uint64_t(p.remote_port))
        .add("packets", e.packets)
        .str();
}

constexpr std::string_view pinhole_usage =
    "usage: pinhole add tcp|udp|any CLIENT PORT [REMOTE|* [REMOTE_PORT]] [--for LEASE]  |  pinhole delete ID "
    "(LEASE 1s-24h, a day by default; REMOTE_PORT 0 = any)";

// What the IPv6 part of status shows, copied in one short hold of the engine lock.
struct Ipv6Figures {
    Ipv6FirewallCounters counters;
    Ipv6FirewallConfig config;
    std::vector<PinholeTable::Entry> pinholes;
    std::size_t flows = 0, max_flows = 0, embryonic_flows = 0;
    std::uint64_t flows_expired = 0, flows_evicted = 0;
};

Ipv6Figures ipv6_figures(const PacketEngine& engine) {
    const Ipv6Firewall& v6 = engine.ipv6();
    return {v6.counters(),          v6.config(),
            v6.pinholes().entries(), v6.flows().size(),
            v6.flows().capacity(),   v6.flows().embryonic_count(),
            v6.flows().expired_total(), v6.flows().evicted_total()};
}

}  // namespace

std::string GatewayControl::ipv6_status() const {
    const Ipv6Figures v6 = engine_.with(ipv6_figures);
    const Ipv6FirewallCounters& c = v6.counters;
    std::vector<std::string> pinholes, networks;
    for (const auto& e : v6.pinholes) pinholes.push_back(pinhole_row(e));
    for (const auto& n : v6.config.lan_networks) networks.push_back(json_quote(n.to_string()));
    return JsonObject()
        .add("enabled", v6.config.enabled())
        .add_raw("lan_networks", json_array(networks))
        .add("flows", std::uint64_t(v6.flows))
        .add("max_flows", std::uint64_t(v6.max_flows))
        .add("flows_created", c.flows_created)
        .add("flows_expired", v6.flows_expired)
        .add("pinhole_flows", c.pinhole_flows)
        .add("flows_evicted", v6.flows_evicted)
        .add("embryonic_flows", std::uint64_t(v6.embryonic_flows))
        .add("inbound_exchanges_untracked", c.inbound_exchanges_untracked)
        .add("packets_out", c.outbound_packets)
        .add("packets_in", c.inbound_packets)
        .add_raw("pinholes", json_array(pinholes))
        .str();
}

std::string GatewayControl::ipv6_flows(const std::vector<std::string>& words, Instant now) const {
    auto filter = parse_ipv6_flow_filter(words, 1);
    if (!filter) return control_usage_error("usage: flows6 " + filter.error().message);
    // Copied in one hold (the IPv6 table has no parts yet: lan.ipv6 max_flows bounds it);
    // the rows are written after.
    const auto flows = engine_.with([&](const PacketEngine& e) {
        std::vector<std::pair<Ipv6Flow, Instant>> live;
        live.reserve(e.ipv6().flows().size());
        e.ipv6().flows().for_each([&](const Ipv6Flow& f) {
            if (!e.ipv6().flows().is_expired(f, now) && filter->matches(f))
                live.emplace_back(f, e.ipv6().flows().idle_left(f, now));
        });
        return live;
    });
    std::vector<std::string> rows;
    for (const auto& [f, idle_left] : flows) {
        std::string state = f.key.protocol == 6 ? std::string(tcp_state_name(f.tcp.state()))
                                                : f.reply_seen ? "replied" : "unreplied";
        rows.push_back(JsonObject()
                           .add("protocol", protocol_text(f.key.protocol))
                           .add("state", state)
                           .add("lan", "[" + f.key.lan_address.to_string() + "]:" + std::to_string(f.key.lan_port))
                           .add("remote", "[" + f.key.remote_address.to_string() + "]:" + std::to_string(f.key.remote_port))
                           .add("origin", ipv6_origin_name(f.origin))
                           .add("pinhole", std::uint64_t(f.pinhole))
                           .add("packets", f.packets)
                           .add("bytes", f.bytes)
                           .add("idle_seconds", std::int64_t((now - f.last_activity).count() / 1000))
                           .add("seconds_left", seconds_left(idle_left))
                           .str());
    }
    return JsonObject().add("ok", true).add("count", std::uint64_t(rows.size())).add_raw("flows", json_array(rows)).str();
}

// As flows delete (gateway_control_views.cpp), for the IPv6 table.
std::string GatewayControl::delete_ipv6_flows(const std::vector<std::string>& words) {
    auto filter = parse_ipv6_flow_filter(words, 2);
    if (!filter) return control_usage_error("usage: flows6 delete " + filter.error().message);
    if (!filter->selects_anything())
        return control_usage_error("flows6 delete needs a selector (--host, --port, --proto, --internal, --remote): "
                                   "it would end every flow");
    const std::size_t ended = end_ipv6_flows(engine_, *filter);
    std::string rest;
    for (std::size_t i = 2; i < words.size(); ++i) rest += (i > 2 ? " " : "") + words[i];
    log::info("gatewayctl flows6 delete " + rest + ": " + std::to_string(ended) + " flows ended");
    return JsonObject()
        .add("ok", true)
        .add("ended", std::uint64_t(ended))
        .add("message", std::to_string(ended) + " flows ended")
        .str();
}

std::string GatewayControl::pinholes() const {
    const auto entries = engine_.with([](const PacketEngine& e) { return e.ipv6().pinholes().entries(); });
    std::vector<std::string> rows;
    for (const auto& e : entries) rows.push_back(pinhole_row(e));
    return JsonObject().add("ok", true).add("count", std::uint64_t(rows.size())).add_raw("pinholes", json_array(rows)).str();
}

std::string GatewayControl::pinhole_command(const std::vector<std::string>& words) {
    if (!pinholes_) return control_error("IPv6 pinholes are not available in this daemon");
    if (words.size() == 3 && words[1] == "delete") {
        auto id = number_in(words[2], 1, max_policy_pinhole_id);
        if (!id) return control_usage_error(pinhole_usage);
        if (auto removed = pinholes_->remove(*id, pinhole_administrator, "gatewayctl"); !removed)
            return control_error("pinhole " + words[2] + " not closed: " + refusal_text(removed.error()));
        return control_ok("pinhole " + words[2] + " closed");
    }
    std::vector<std::string> args = words;
    PinholeRequest request;
    request.lease_seconds = max_pinhole_lease_seconds;
    if (args.size() >= 2 && args[args.size() - 2] == "--for") {
        auto lease = lease_seconds(args.back());
        if (!lease) return control_usage_error(pinhole_usage);
        request.lease_seconds = *lease;
        args.resize(args.size() - 2);
    }
    if (args.size() < 5 || args.size() > 7 || args[1] != "add") return control_usage_error(pinhole_usage);
    auto protocol = pinhole_protocol(args[2]);
    auto client = Ipv6Address::parse(args[3]);
    auto port = number_in(args[4], 0, 65535);
    if (!protocol || !client || !port) return control_usage_error(pinhole_usage);
    request.protocol = *protocol;
    request.internal_client = client;
    request.internal_port = *port;
    if (args.size() >= 6 && args[5] != "*") {
        request.remote_host = Ipv6Address::parse(args[5]);
        if (!request.remote_host) return control_usage_error(pinhole_usage);
    }
    if (args.size() == 7) {
        auto remote_port = number_in(args[6], 0, 65535);
        if (!remote_port) return control_usage_error(pinhole_usage);
        request.remote_port = *remote_port;
    }
    // The policy's checks, as for a client (the LAN prefixes the packet path forwards, the
    // limits), but not secure mode's: the administrator may open any LAN host's port.
    auto granted = pinholes_->add(request, pinhole_administrator, "gatewayctl");
    if (!granted)
        return control_error("pinhole to [" + args[3] + "]:" + args[4] + " refused: " + refusal_text(granted.error()));
    const PinholeLease& lease = *granted;
    std::string id = std::to_string(lease.pinhole.id);
    return JsonObject()
        .add("ok", true)
        .add("message", "pinhole " + id + " open: " + protocol_text(request.protocol) + " to [" + args[3] + "]:" +
                            args[4] + " for " + std::to_string(request.lease_seconds) + "s")
        .add("id", std::uint64_t(lease.pinhole.id))
        .str();
}

}  // namespace gw
