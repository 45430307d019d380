#include "status_text.hpp"

#include <cmath>
#include <cstdio>
#include <set>
#include <tuple>
#include <string_view>

namespace gw {
namespace {

const double* number_of(const JsonValue* value) { return value ? value->number() : nullptr; }

std::string text_of(const JsonValue* value) {
    if (!value) return "?";
    if (const std::string* s = value->string()) return *s;
    if (const double* n = number_of(value)) {
        char text[32];
        std::snprintf(text, sizeof text, "%.0f", *n);
        return text;
    }
    if (const bool* b = std::get_if<bool>(&value->value)) return *b ? "yes" : "no";
    return "?";
}

std::string duration_text(double seconds) {
    auto s = static_cast<long long>(seconds);
    char text[48];
    if (s >= 86400) std::snprintf(text, sizeof text, "%lldd %02lldh %02lldm", s / 86400, s % 86400 / 3600, s % 3600 / 60);
    else if (s >= 3600) std::snprintf(text, sizeof text, "%lldh %02lldm %02llds", s / 3600, s % 3600 / 60, s % 60);
    else if (s >= 60) std::snprintf(text, sizeof text, "%lldm %02llds", s / 60, s % 60);
    else std::snprintf(text, sizeof text, "%llds", s);
    return text;
}

std::string bytes_text(double bytes) {
    const char* units[] = {"B", "kB", "MB", "GB", "TB"};
    int unit = 0;
    while (bytes >= 1000 && unit < 4) {
        bytes /= 1000;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, units[unit]);
    return text;
}

// "name value" pairs of the non-zero numbers under `object` (nested objects by dotted
// name), for one line of counters.
void nonzero(const JsonValue* object, const std::string& prefix, const std::set<std::string_view>& skip,
             std::string& out) {
    if (!object || !object->object()) return;
    for (const auto& [key, value] : *object->object()) {
        if (skip.contains(key)) continue;
        if (value.object()) {
            nonzero(&value, prefix + key + ".", skip, out);
        } else if (const double* n = number_of(&value); n && *n != 0) {
            out += (out.empty() ? "" : ", ") + prefix + key + " " + text_of(&value);
        }
    }
}

void line(std::string& out, std::string_view label, const std::string& text) {
    if (text.empty()) return;
    out += std::string(label);
    out.append(label.size() < 12 ? 12 - label.size() : 1, ' ');
    out += text + "\n";
}

}  // namespace

std::string status_text(const JsonValue& status) {
    std::string out;
    out += "gatewayd " + text_of(status.member("version")) + ", pid " + text_of(status.member("pid")) + ", up " +
           (number_of(status.member("uptime_seconds")) ? duration_text(*number_of(status.member("uptime_seconds"))) : "?") +
           ", config " + text_of(status.member("config_path")) + "\n";

    std::string wan = text_of(status.member("wan_interface")) + " " + text_of(status.member("wan_address"));
    if (const JsonValue* w = status.member("wan")) {
        if (const JsonValue* c = w->member("class")) wan += " (" + text_of(c) + ")";
        if (const JsonValue* c = w->member("cascade"); c && text_of(c) != "no") wan += ", another NAT upstream: " + text_of(c);
        if (const JsonValue* p = w->member("public_address")) wan += ", the internet sees " + text_of(p);
    }
    line(out, "WAN", wan);
    if (const JsonValue* u = status.member("upstream"); u && u->member("state")) {
        // "using (PCP at 192.0.2.1:5351), external 198.51.100.7, 3 mappings carried, 1 failing"
        std::string upstream = text_of(u->member("state"));
        if (std::string detail = text_of(u->member("detail")); !detail.empty()) upstream += " (" + detail + ")";
        if (const JsonValue* a = u->member("external_address"); a && a->string()) upstream += ", external " + text_of(a);
        if (text_of(u->member("state")) == "using")
            upstream += ", " + text_of(u->member("mappings_carried")) + " mappings carried, " +
                        text_of(u->member("mappings_failing")) + " failing";
        upstream += " [wan.upstream_mappings: " + text_of(u->member("mode")) + "]";
        line(out, "upstream", upstream);
    }
    line(out, "LAN", text_of(status.member("lan_interface")));
    line(out, "filtering", text_of(status.member("filtering")));

    std::string counts = text_of(status.member("flows")) + " flows";
    if (const JsonValue* v6 = status.member("ipv6"); v6 && number_of(v6->member("flows")))
        counts += " (+" + text_of(v6->member("flows")) + " IPv6)";
    counts += ", " + text_of(status.member("nat_mappings")) + " NAT mappings, " + text_of(status.member("upnp_mappings")) +
              " port mappings, " + text_of(status.member("timed_forwards")) + " timed forwards, " +
              text_of(status.member("rules")) + " rules";
    line(out, "holding", counts);

    if (const JsonValue* c = status.member("counters")) {
        std::string traffic;
        for (auto [packets, bytes, word] : {std::tuple{"packets_out", "bytes_out", "out"}, std::tuple{"packets_in", "bytes_in", "in"},
                                            std::tuple{"packets_local", "", "local"}}) {
            if (!number_of(c->member(packets))) continue;
            traffic += (traffic.empty() ? "" : ", ") + std::string(word) + " " + text_of(c->member(packets)) + " packets";
            if (*bytes && number_of(c->member(bytes))) traffic += " (" + bytes_text(*number_of(c->member(bytes))) + ")";
        }
        line(out, "traffic", traffic);
        std::string drops;
        nonzero(c->member("drops"), "", {}, drops);
        line(out, "drops", drops.empty() ? std::string("none") : text_of(c->member("drops_total")) + ": " + drops);
    }

    if (const JsonValue* f = status.member("front_ends"); f && f->object()) {
        std::string front_ends;
        for (const auto& [name, value] : *f->object())
            if (value.object()) {
                std::string state = text_of(value.member("state"));
                std::string reason = text_of(value.member("reason"));
                front_ends += (front_ends.empty() ? "" : ", ") + name + " " + state +
                              (state != "running" && !reason.empty() && reason != "?" ? " (" + reason + ")" : "");
            }
        line(out, "front ends", front_ends);
    }

    // Every other non-zero figure, by section: refusals, port control, SSDP, IPv6, neighbours.
    for (std::string_view section : {"upnp_refusals", "port_control_counts", "ssdp", "ipv6", "lan_neighbours"}) {
        std::string figures;
        nonzero(status.member(section), "", {"flows", "max_flows", "embryonic_flows"}, figures);
        line(out, section, figures);
    }

    // The kernel's reassembly ahead of the queue: one line once it has seen a fragment.
    if (const JsonValue* r = status.member("ip_reassembly"); r && number_of(r->member("fragments")) &&
                                                              *number_of(r->member("fragments")) != 0) {
        std::string text = text_of(r->member("reassembled")) + " datagrams from " + text_of(r->member("fragments")) +
                           " fragments, " + text_of(r->member("failed")) + " failed (" +
                           text_of(r->member("timed_out")) + " timed out)";
        if (const double* held = number_of(r->member("memory_bytes")))
            text += ", " + bytes_text(*held) + " held";
        line(out, "reassembly", text);
    }

    const JsonValue* warnings = status.member("warnings");
    if (warnings && warnings->array() && !warnings->array()->empty())
        for (const JsonValue& w : *warnings->array()) line(out, "warning", text_of(&w));
    else
        line(out, "warnings", "none");
    out += "(non-zero figures only: gatewayctl status --all for every one, --json for the JSON)\n";
    return out;
}

}  // namespace gw
