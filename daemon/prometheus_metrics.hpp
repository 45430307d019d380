// `gatewayctl metrics` and the optional scrape endpoint: the status answer
// (GatewayControl's `status` JSON) in the Prometheus text exposition format 0.0.4, so
// node-exporter-style scraping and promtool read the same counters `gatewayctl status`
// shows. Lives beside the control JSON (gw_control_json) because both gatewayctl and the
// daemon render it.
#pragma once

#include <string>

#include "control_json.hpp"

namespace gw {

// Every counter and gauge of `status` (what it lacks is left out, never invented):
// counters end in _total, reasons and directions are labels, and gatewayd_up is 1.
// With `rules` (the `rules` answer), each rule's and policy's packets and bytes too; with
// `mappings` (the `mappings` answer), each port mapping's and forward's packets and bytes,
// labelled by what names it (a mapping's description is a client's text: escaped).
std::string prometheus_metrics(const JsonValue& status, const JsonValue* rules = nullptr,
                               const JsonValue* mappings = nullptr);

}  // namespace gw
