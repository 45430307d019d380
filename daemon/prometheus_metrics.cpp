#include "prometheus_metrics.hpp"

#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <map>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

namespace gw {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

// A metric or label name: [a-zA-Z_][a-zA-Z0-9_]*; anything else becomes '_'.
std::string metric_name(std::string_view text) {
    std::string name(text);
    for (char& c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) c = '_';
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) name.insert(name.begin(), '_');
    return name;
}

// Label values escape backslash, double quote and newline (exposition format 0.0.4).
std::string label_value(std::string_view text) {
    std::string value;
    for (char c : text) {
        if (c == '\\') value += "\\\\";
        else if (c == '"') value += "\\\"";
        else if (c == '\n') value += "\\n";
        else value += c;
    }
    return value;
}

std::string number_text(double value) {
    char text[32];
    if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15)
        std::snprintf(text, sizeof text, "%.0f", value);
    else
        std::snprintf(text, sizeof text, "%.17g", value);
    return text;
}

// The samples of each family, written family by family with HELP and TYPE first, as
// the format wants every sample of a family together.
class Exposition {
public:
    void add(const std::string& family, std::string_view type, std::string_view help, Labels labels, double value) {
        auto [it, added] = families_.try_emplace(family);
        if (added) {
            order_.push_back(family);
            it->second.header = "# HELP " + family + " " + std::string(help) + "\n# TYPE " + family + " " +
                                std::string(type) + "\n";
        }
        std::string line = family;
        if (!labels.empty()) {
            line += '{';
            for (std::size_t i = 0; i < labels.size(); ++i) {
                if (i) line += ',';
                line += metric_name(labels[i].first) + "=\"" + label_value(labels[i].second) + "\"";
            }
            line += '}';
        }
        // A label set seen twice (two JSON keys that sanitize alike) is written once.
        if (!it->second.seen.insert(line).second) return;
        it->second.samples += line + " " + number_text(value) + "\n";
    }

    std::string text() const {
        std::string out;
        for (const auto& family : order_) out += families_.at(family).header + families_.at(family).samples;
        return out;
    }

private:
    struct Family {
        std::string header, samples;
        std::set<std::string> seen;
    };
    std::map<std::string, Family> families_;
    std::vector<std::string> order_;
};

const double* number_of(const JsonValue* value) { return value ? value->number() : nullptr; }

void gauge(Exposition& out, const JsonValue& status, std::string_view key, std::string_view help) {
    if (const double* n = number_of(status.member(key)))
        out.add("gatewayd_" + metric_name(key), "gauge", help, {}, *n);
}

// Each numeric member of `object` as one sample of `family`, its key as the label `label`.
void labelled(Exposition& out, const JsonValue* object, const std::string& family, std::string_view type,
              std::string_view help, std::string_view label, const std::set<std::string_view>& skip = {}) {
    if (!object || !object->object()) return;
    for (const auto& [key, value] : *object->object())
        if (const double* n = number_of(&value); n && !skip.contains(key))
            out.add(family, type, help, {{std::string(label), key}}, *n);
}

void engine_counters(Exposition& out, const JsonValue* counters) {
    if (!counters) return;
    auto counter = [&](std::string_view key, const std::string& family, std::string_view help, Labels labels) {
        if (const double* n = number_of(counters->member(key))) out.add(family, "counter", help, std::move(labels), *n);
    };
    const char* packets = "Packets the packet path passed, by direction.";
    counter("packets_out", "gatewayd_packets_total", packets, {{"direction", "out"}});
    counter("packets_in", "gatewayd_packets_total", packets, {{"direction", "in"}});
    counter("packets_local", "gatewayd_packets_total", packets, {{"direction", "local"}});
    const char* bytes = "Bytes the packet path passed, by direction.";
    counter("bytes_out", "gatewayd_bytes_total", bytes, {{"direction", "out"}});
    counter("bytes_in", "gatewayd_bytes_total", bytes, {{"direction", "in"}});
    counter("flows_created", "gatewayd_flows_created_total", "Flows created.", {});
    counter("flows_expired", "gatewayd_flows_expired_total", "Flows that ended by timeout.", {});
    counter("flows_evicted", "gatewayd_flows_evicted_total", "Flows evicted to make room.", {});
    counter("mappings_created", "gatewayd_nat_mappings_created_total", "NAT mappings created.", {});
    const char* unreachables = "ICMP administratively prohibited about LAN packets no mapping could be made for "
                               "(RFC 5508 REQ-8), sent or held back by the rate limit.";
    counter("no_mapping_unreachables", "gatewayd_no_mapping_unreachables_total", unreachables, {{"outcome", "sent"}});
    counter("no_mapping_unreachables_suppressed", "gatewayd_no_mapping_unreachables_total", unreachables,
            {{"outcome", "suppressed"}});
    labelled(out, counters->member("drops"), "gatewayd_drops_total", "counter", "Packets dropped, by reason.", "reason");
}

void queue_metrics(Exposition& out, const JsonValue* queues) {
    if (!queues || !queues->array()) return;
    for (const JsonValue& row : *queues->array()) {
        const double* queue = number_of(row.member("queue"));
        if (!queue || !row.object()) continue;
        for (const auto& [key, value] : *row.object()) {
            const double* n = number_of(&value);
            if (!n || key == "queue") continue;
            bool is_gauge = key == "waiting";
            // Times are microseconds in status, seconds in Prometheus (its base unit).
            bool microseconds = key.ends_with("_us");
            std::string name = microseconds ? key.substr(0, key.size() - 3) + "_seconds" : key;
            std::string family = "gatewayd_queue_" + metric_name(name) + (is_gauge ? "" : "_total");
            out.add(family, is_gauge ? "gauge" : "counter", "NFQUEUE worker figure '" + key + "' (gatewayctl status).",
                    {{"queue", number_text(*queue)}}, microseconds ? *n / 1e6 : *n);
        }
    }
}

// Sections whose members are each a figure of their own: `gauges` stay as they are,
// every other numeric member is a counter named SECTION_KEY_total.
void section(Exposition& out, const JsonValue& status, std::string_view key, const std::set<std::string_view>& gauges) {
    const JsonValue* object = status.member(key);
    if (!object || !object->object()) return;
    for (const auto& [member, value] : *object->object()) {
        const double* n = number_of(&value);
        if (!n) continue;
        bool is_gauge = gauges.contains(member);
        std::string family = "gatewayd_" + metric_name(key) + "_" + metric_name(member) + (is_gauge ? "" : "_total");
        out.add(family, is_gauge ? "gauge" : "counter", std::string(key) + " figure '" + member + "' (gatewayctl status).",
                {}, *n);
    }
}

// Each row's figures under the labels its text members give (name, direction, action).
void rule_metrics(Exposition& out, const JsonValue* rules) {
    if (!rules) return;
    auto rows = [&](std::string_view key, const std::string& prefix, std::string_view who) {
        const JsonValue* list = rules->member(key);
        if (!list || !list->array()) return;
        for (const JsonValue& row : *list->array()) {
            Labels labels;
            for (std::string_view label : {"name", "direction", "action"})
                if (const JsonValue* v = row.member(label); v && v->string())
                    labels.emplace_back(label == "name" ? "rule" : std::string(label), *v->string());
            for (std::string_view figure : {"packets", "bytes", "rate_limited"})
                if (const double* n = number_of(row.member(figure)))
                    out.add(prefix + std::string(figure) + "_total", "counter",
                            "The " + std::string(figure) + " each " + std::string(who) +
                                " decided (kept across a reload while it is unchanged).",
                            labels, *n);
        }
    };
    rows("rules", "gatewayd_rule_", "firewall rule");
    rows("policies", "gatewayd_policy_", "default policy");
}

// Each port mapping's (UPnP, NAT-PMP, PCP) and forward's (static, timed) packets and
// bytes, under the labels that name it.
void mapping_metrics(Exposition& out, const JsonValue* mappings) {
    if (!mappings) return;
    auto rows = [&](std::string_view key, const std::string& prefix, std::string_view who,
                    std::initializer_list<std::pair<std::string_view, std::string_view>> label_of) {
        const JsonValue* list = mappings->member(key);
        if (!list || !list->array()) return;
        for (const JsonValue& row : *list->array()) {
            Labels labels;
            for (auto [member, label] : label_of) {
                const JsonValue* v = row.member(member);
                if (v && v->string()) labels.emplace_back(label, *v->string());
                else if (const double* n = number_of(v)) labels.emplace_back(label, number_text(*n));
            }
            for (std::string_view figure : {"packets", "bytes"})
                if (const double* n = number_of(row.member(figure)))
                    out.add(prefix + std::string(figure) + "_total", "counter",
                            "The " + std::string(figure) + " of the connections each " + std::string(who) +
                                " let in, both directions (from its opening, or its last change).",
                            labels, *n);
        }
    };
    rows("upnp", "gatewayd_mapping_", "port mapping (UPnP, NAT-PMP, PCP)",
         {{"protocol", "protocol"}, {"external_port", "external_port"}, {"internal", "internal"},
          {"description", "description"}});
    rows("forwards", "gatewayd_forward_", "forward (static or timed)",
         {{"name", "forward"}, {"protocol", "protocol"}, {"external_ports", "external_ports"}, {"internal", "internal"}});
}

// wan.upstream_mappings (issue 19): what is carried through the NAT upstream.
void upstream_metrics(Exposition& out, const JsonValue* upstream) {
    if (!upstream || !upstream->member("state")) return;
    if (const double* n = number_of(upstream->member("mappings_carried")))
        out.add("gatewayd_upstream_mappings", "gauge", "Openings carried through the NAT upstream now.", {}, *n);
    const JsonValue* c = upstream->member("counters");
    if (!c) return;
    auto counter = [&](const char* key, const char* name, const char* help) {
        if (const double* n = number_of(c->member(key))) out.add(name, "counter", help, {}, *n);
    };
    counter("carried", "gatewayd_upstream_mappings_carried_total", "Openings granted by the NAT upstream (first claims).");
    counter("renewals", "gatewayd_upstream_renewals_total", "Upstream mappings renewed or claimed again.");
    counter("refused_locally", "gatewayd_upstream_refused_locally_total",
            "Local grants undone because the upstream failed them (wan.upstream_failure: refuse).");
    counter("kept_without_upstream", "gatewayd_upstream_kept_without_upstream_total",
            "Local grants kept without their upstream half (wan.upstream_failure: keep).");
    counter("reclaims", "gatewayd_upstream_reclaims_total", "Upstream restarts seen: every upstream mapping claimed again.");
    counter("announcements", "gatewayd_upstream_announcements_total",
            "Announcements (PCP ANNOUNCE, NAT-PMP) heard from the upstream server in use.");
    if (const JsonValue* ignored = c->member("announcements_ignored"); ignored && ignored->object())
        for (const auto& [reason, value] : *ignored->object())
            if (const double* n = number_of(&value))
                out.add("gatewayd_upstream_announcements_ignored_total", "counter",
                        "Datagrams to the WAN's port 5350 that were no announcement of the upstream in use, by reason.",
                        {{"reason", reason}}, *n);
    if (const JsonValue* failed = c->member("failed"); failed && failed->object())
        for (const auto& [reason, value] : *failed->object())
            if (const double* n = number_of(&value))
                out.add("gatewayd_upstream_mappings_failed_total", "counter",
                        "Upstream mapping requests that failed, by reason.", {{"reason", reason}}, *n);
}

}  // namespace

std::string prometheus_metrics(const JsonValue& status, const JsonValue* rules, const JsonValue* mappings) {
    Exposition out;
    out.add("gatewayd_up", "gauge", "1 when gatewayd answered.", {}, 1);
    Labels info;
    for (std::string_view key : {"version", "wan_address", "wan_interface", "lan_interface", "filtering"})
        if (const JsonValue* v = status.member(key); v && v->string()) info.emplace_back(key, *v->string());
    if (!info.empty()) out.add("gatewayd_info", "gauge", "The running configuration's names, as labels.", info, 1);
    gauge(out, status, "uptime_seconds", "Seconds since gatewayd started.");
    gauge(out, status, "flows", "IPv4 flows tracked now.");
    gauge(out, status, "nat_mappings", "NAT mappings held now.");
    gauge(out, status, "upnp_mappings", "Port mappings held now (UPnP, NAT-PMP, PCP).");
    gauge(out, status, "timed_forwards", "Timed forwards open now.");
    gauge(out, status, "rules", "Firewall rules in force.");
    engine_counters(out, status.member("counters"));

    const JsonValue* refusals = status.member("upnp_refusals");
    labelled(out, refusals, "gatewayd_upnp_refusals_total", "counter",
             "UPnP requests refused, by where and why (packet path, HTTP front end, SOAP, internal client).", "reason",
             {"gena_subscriptions_held", "http_forwarded"});
    if (const double* n = refusals ? number_of(refusals->member("gena_subscriptions_held")) : nullptr)
        out.add("gatewayd_gena_subscriptions", "gauge", "GENA subscriptions held now.", {}, *n);
    if (const double* n = refusals ? number_of(refusals->member("http_forwarded")) : nullptr)
        out.add("gatewayd_upnp_http_forwarded_total", "counter", "HTTP requests the front end passed to pupnp.", {}, *n);
    labelled(out, status.member("port_control_counts"), "gatewayd_port_control_total", "counter",
             "NAT-PMP and PCP requests, answers by result, and what the server dropped.", "event");
    labelled(out, status.member("ssdp"), "gatewayd_ssdp_total", "counter",
             "SSDP searches, answers, announcements, and searches refused by reason.", "event", {"pending"});
    if (const JsonValue* ssdp = status.member("ssdp"))
        if (const double* n = number_of(ssdp->member("pending")))
            out.add("gatewayd_ssdp_pending", "gauge", "SSDP answers waiting for their MX delay.", {}, *n);
    upstream_metrics(out, status.member("upstream"));
    section(out, status, "ipv6", {"flows", "max_flows", "embryonic_flows"});
    section(out, status, "lan_neighbours", {"entries"});
    section(out, status, "ip_reassembly", {"memory_bytes", "memory_limit_bytes", "timeout_seconds"});
    queue_metrics(out, status.member("queues"));
    rule_metrics(out, rules);
    mapping_metrics(out, mappings);
    if (const JsonValue* warnings = status.member("warnings"); warnings && warnings->array())
        out.add("gatewayd_warnings", "gauge", "Warnings gatewayctl status shows now.", {},
                double(warnings->array()->size()));
    return out.text();
}

}  // namespace gw
