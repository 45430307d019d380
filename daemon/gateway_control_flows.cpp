// gatewayctl flows and flows delete (issue 16: packets, bytes and seconds left per flow;
// ending flows from the control plane). The table is copied, and searched for what to
// end, in parts under short holds of the engine lock (control_flow_snapshot.hpp); the
// answer and the log line are written after the last hold.
#include "base/log.hpp"
#include "control_flow_snapshot.hpp"
#include "control_json.hpp"
#include "gateway_control.hpp"

namespace gw {
namespace {

std::string_view origin_name(FlowOrigin origin) {
    switch (origin) {
        case FlowOrigin::lan: return "lan";
        case FlowOrigin::wan: return "wan";
        case FlowOrigin::gateway: return "gateway";
        case FlowOrigin::to_gateway: return "to-gateway";
        case FlowOrigin::hairpin_client: return "hairpin-client";
        case FlowOrigin::hairpin_server: return "hairpin-server";
        case FlowOrigin::hairpin_punch: return "hairpin-punch";
    }
    return "unknown";
}

std::string flow_state(const Flow& f) {
    if (f.protocol == Protocol::tcp) return std::string(tcp_state_name(f.tcp.state()));
    return f.reply_seen ? "replied" : "unreplied";
}

}  // namespace

std::string GatewayControl::flows(const std::vector<std::string>& words, Instant now) const {
    auto filter = parse_flow_filter(words, 1);
    if (!filter) return control_usage_error("usage: flows " + filter.error().message);
    std::vector<std::string> rows;
    for (const FlowCopy& copy : snapshot_flows(engine_, *filter, now)) {
        const Flow& f = copy.flow;
        rows.push_back(JsonObject()
                           .add("protocol", protocol_name(f.protocol))
                           .add("state", flow_state(f))
                           .add("internal", to_string(f.internal))
                           .add("external_port", std::uint64_t(f.external.value))
                           .add("remote", to_string(f.remote))
                           .add("origin", origin_name(f.origin))
                           .add("packets", f.packets)
                           .add("bytes", f.bytes)
                           .add("idle_seconds", std::int64_t((now - f.last_activity).count() / 1000))
                           .add("seconds_left", seconds_left(copy.idle_left))
                           .str());
    }
    return JsonObject().add("ok", true).add("count", std::uint64_t(rows.size())).add_raw("flows", json_array(rows)).str();
}

// The flows go under short holds of the engine lock (end_flows); the log line is
// written after the last one.
std::string GatewayControl::delete_flows(const std::vector<std::string>& words) {
    auto filter = parse_flow_filter(words, 2);
    if (!filter) return control_usage_error("usage: flows delete " + filter.error().message);
    if (!filter->selects_anything())
        return control_usage_error("flows delete needs a selector (--host, --port, --proto, --internal, --remote): "
                                   "it would end every flow");
    const std::size_t ended = end_flows(engine_, *filter);
    std::string rest;
    for (std::size_t i = 2; i < words.size(); ++i) rest += (i > 2 ? " " : "") + words[i];
    log::info("gatewayctl flows delete " + rest + ": " + std::to_string(ended) + " flows ended");
    return JsonObject()
        .add("ok", true)
        .add("ended", std::uint64_t(ended))
        .add("message", std::to_string(ended) + " flows ended")
        .str();
}

}  // namespace gw
