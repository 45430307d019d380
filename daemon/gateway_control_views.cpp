// gatewayctl's views of the running gateway (status, mappings) and the forward
// commands (enable, disable, add for a while). Field names are the JSON API: gatewayctl
// prints tables from them and scripts read them with --json.
#include <cctype>
#include <charconv>

#include <unistd.h>

#include "control_json.hpp"
#include "firewall/address_checks.hpp"
#include "gateway_control.hpp"
#include "front_end_supervisor.hpp"
#include "upstream_worker.hpp"
#include "wan_monitor.hpp"
#include "igd/internet_gateway_device.hpp"
#include "igd/pinhole_service.hpp"
#include "igd/port_mapping_service.hpp"
#include "port_control_server.hpp"
#include "ssdp_server.hpp"
#include "lan_neighbours.hpp"
#include "base/log.hpp"
#include "ip_reassembly_stats.hpp"
#include "nfqueue_kernel_stats.hpp"
#include "queue_worker.hpp"

namespace gw {
namespace {

std::optional<Protocol> protocol_named(std::string_view name) {
    if (name == "tcp") return Protocol::tcp;
    if (name == "udp") return Protocol::udp;
    if (name == "icmp") return Protocol::icmp;
    return std::nullopt;
}

std::optional<std::uint16_t> port_number(std::string_view text) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) return std::nullopt;
    return std::uint16_t(value);
}

// "30", "30s", "10m", "2h", "1d": whole seconds, at least one, at most a week.
std::optional<std::int64_t> duration_seconds(std::string_view text) {
    std::int64_t unit = 1;
    if (!text.empty()) {
        switch (text.back()) {
            case 's': unit = 1; text.remove_suffix(1); break;
            case 'm': unit = 60; text.remove_suffix(1); break;
            case 'h': unit = 3600; text.remove_suffix(1); break;
            case 'd': unit = 86400; text.remove_suffix(1); break;
            default: break;
        }
    }
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value <= 0 || value * unit > 604800)
        return std::nullopt;
    return value * unit;
}

std::string to_string_list(const std::vector<Ipv4Network>& networks) {
    std::string out;
    for (const auto& n : networks) out += (out.empty() ? "" : ", ") + n.to_string();
    return out;
}

// One row per queue: what its worker received, lost (enobufs) and where its time went.
std::string queue_rows(const std::vector<std::unique_ptr<QueueWorker>>& workers) {
    std::vector<std::string> rows;
    auto microseconds = [](const std::atomic<std::uint64_t>& ns) { return ns.load(std::memory_order_relaxed) / 1000; };
    for (const auto& worker : workers) {
        const QueueCounters& c = worker->socket().counters();
        const WorkerTimings& t = worker->timings();
        // The kernel's side of the queue: drops that never reach the socket.
        const auto kernel = read_nfqueue_kernel_stats(worker->socket().queue_number()).value_or(NfQueueKernelStats{});
        rows.push_back(JsonObject()
                           .add("queue", std::uint64_t(worker->socket().queue_number()))
                           .add("received", c.received.load(std::memory_order_relaxed))
                           .add("batches", c.batches.load(std::memory_order_relaxed))
                           .add("enobufs", c.enobufs.load(std::memory_order_relaxed))
                           .add("waiting", kernel.waiting)
                           .add("queue_full_drops", kernel.queue_full_drops)
                           .add("kernel_user_drops", kernel.user_drops)
                           .add("oversized_verdicts", c.oversized_verdicts.load(std::memory_order_relaxed))
                           .add("io_us", microseconds(t.io_ns))
                           .add("lock_wait_us", microseconds(t.lock_wait_ns))
                           .add("engine_us", microseconds(t.engine_ns))
                           .str());
    }
    return json_array(rows);
}

// What went through the dynamic mapping on each item's (protocol, external port): the
// list is the mapping service's, taken under its mutex before; the counts are copied in
// one engine hold after (lock order: the engine lock is the last one taken).
template <class Item, class PortOf>
std::vector<TrafficCount> dynamic_counts(const LockedEngine& engine, const std::vector<Item>& items, PortOf port_of) {
    std::vector<TrafficCount> counts(items.size());
    engine.with([&](const PacketEngine& e) {
        for (std::size_t i = 0; i < items.size(); ++i) {
            auto [protocol, port] = port_of(items[i]);
            counts[i] = e.forwards().dynamic_count(protocol, port);
        }
        return 0;
    });
    return counts;
}

// What status shows of the engine, copied in one short hold of its lock.
struct EngineFigures {
    EngineCounters counters;
    Ipv4Address wan_address;
    std::string wan_interface, lan_interface;
    FilteringBehaviour filtering{};
    std::size_t flows = 0, nat_mappings = 0, rules = 0;
};

EngineFigures engine_figures(const PacketEngine& engine) {
    const EngineSetup& setup = engine.setup();
    EngineFigures f;
    f.counters = engine.counters();
    f.wan_address = engine.wan_address();
    f.wan_interface = setup.wan_interface;
    f.lan_interface = setup.lan_interface;
    f.filtering = setup.firewall.filtering;
    f.flows = engine.flows().size();
    f.nat_mappings = engine.mappings().size();
    f.rules = setup.firewall.rules.size();
    return f;
}

}  // namespace

std::string GatewayControl::status(Instant now) const {
    const EngineFigures engine = engine_.with(engine_figures);
    const EngineCounters& c = engine.counters;
    JsonObject drops;
    for (std::size_t i = 1; i < drop_reason_count; ++i)
        if (c.drops[DropReason(i)] > 0) drops.add(drop_reason_name(DropReason(i)), c.drops[DropReason(i)]);
    // Without the daemon's WAN monitor (tests), the engine's WAN address judged alone.
    const WanStatus alone = wan_status_for(engine.wan_address, std::nullopt, config_.cascade_mappings);
    const WanStatus& wan = wan_ ? wan_->status() : alone;
    std::vector<std::string> warnings;
    if (auto warning = wan.warning()) warnings.push_back(json_quote(*warning));
    JsonObject counters;
    counters.add("packets_out", c.outbound_packets).add("bytes_out", c.outbound_bytes);
    counters.add("packets_in", c.inbound_packets).add("bytes_in", c.inbound_bytes);
    counters.add("packets_local", c.local_packets).add("flows_created", c.flows_created);
    counters.add("flows_expired", c.flows_expired).add("flows_evicted", c.flows_evicted);
    counters.add("mappings_created", c.mappings_created);
    counters.add("no_mapping_unreachables", c.no_mapping_unreachables);
    counters.add("no_mapping_unreachables_suppressed", c.no_mapping_unreachables_suppressed);
    counters.add("gateway_icmp_errors_translated", c.gateway_icmp_errors_translated);
    counters.add("drops_total", c.drops.total()).add_raw("drops", drops.str());
    // Every UPnP refusal by reason: the packet path's (WAN side), the HTTP front end's
    // (http_<reason>, every reason listed; http_answered_4xx: pupnp's own 4xx answers
    // it relayed) and the IGD's SOAP answers (by UPnP error code).
    JsonObject upnp_refusals;
    upnp_refusals.add("from_wan", c.upnp_from_wan_refused);
    if (const HttpFrontEnd* front_end = igd_ ? igd_->front_end() : nullptr) {
        const HttpFrontEndCounters& http = front_end->counters();
        for (std::size_t i = 0; i < http_refusal_count; ++i)
            upnp_refusals.add("http_" + std::string(http_refusal_name(HttpRefusal(i))), http.of(HttpRefusal(i)));
        upnp_refusals.add("http_answered_4xx", http.answered_4xx.load(std::memory_order_relaxed));
        upnp_refusals.add("http_forwarded", http.forwarded.load(std::memory_order_relaxed));
        upnp_refusals.add("gena_subscriptions_held", std::uint64_t(front_end->subscriptions_held()));
    }
    if (igd_)
        for (const auto& [name, count] : igd_->refusals().nonzero()) upnp_refusals.add("soap_" + name, count);
    // Mappings refused by every front end (UPnP, NAT-PMP, PCP) for an internal client
    // that is not a LAN host, by what it was.
    if (mapping_service_) {
        auto refused = mapping_service_->with_policy([](MappingPolicy& policy, Instant) {
            struct { MappingChanges changes; std::array<std::uint64_t, 5> counts; } r{{}, policy.internal_client_refusals()};
            return r;
        }).counts;
        for (std::size_t i = 1; i < refused.size(); ++i)
            upnp_refusals.add("internal_client_" + std::string(lan_address_class_name(LanAddressClass(i))), refused[i]);
    }
    // IPv6 pinholes (WANIPv6FirewallControl), by UniqueID.
    std::vector<std::string> pinholes;
    if (pinholes_)
        for (const auto& lease : pinholes_->all()) {
            const Pinhole& p = lease.pinhole;
            pinholes.push_back(JsonObject()
                                   .add("id", std::uint64_t(p.id))
                                   .add("protocol", std::uint64_t(p.protocol))
                                   .add("remote_host", p.remote_host ? p.remote_host->to_string() : "*")
                                   .add("remote_port", std::uint64_t(p.remote_port))
                                   .add("internal_client", p.internal_client.to_string())
                                   .add("internal_port", std::uint64_t(p.internal_port))
                                   .add("owner", lease.owner.to_string())
                                   .add("lease_seconds", std::uint64_t(remaining_seconds(lease, now)))
                                   .str());
        }
    // NAT-PMP's answers by result code, and what the UDP 5351 server dropped or ignored.
    JsonObject port_control;
    if (port_control_) {
        PortControlCounts pc = port_control_->counts();
        port_control.add("natpmp_requests", pc.natpmp_requests);
        for (std::size_t r = 0; r < natpmp_result_count; ++r)
            port_control.add("natpmp_" + std::string(natpmp_result_name(NatPmpResult(r))), pc.natpmp_results[r]);
        port_control.add("natpmp_ignored", pc.natpmp_ignored).add("pcp_requests", pc.pcp_requests);
        for (std::size_t r = 0; r < pcp_result_count; ++r) {
            std::string name(pcp_result_name(PcpResult(r)));
            for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
            port_control.add("pcp_" + name, pc.pcp_results[r]);
        }
        port_control.add("pcp_dropped", pc.pcp_dropped);
        port_control.add("unsupported_version", pc.unsupported_version).add("outside_lan", pc.outside_lan);
        port_control.add("announcements", pc.announcements).add("send_errors", pc.send_errors);
    }
    // The gateway's own SSDP: what it sent, and every M-SEARCH it did not answer, by reason.
    JsonObject ssdp;
    if (ssdp_) {
        SsdpServerCounts sc = ssdp_->counts();
        ssdp.add("searches", sc.responder.searches).add("searches_answered", sc.responder.searches_answered);
        ssdp.add("answers_sent", sc.answers_sent).add("notifies_sent", sc.notifies_sent);
        ssdp.add("mx_clamped", sc.responder.mx_clamped).add("pending", sc.pending).add("send_errors", sc.send_errors);
        for (std::size_t r = 0; r < ssdp_refusal_count; ++r)
            ssdp.add("refused_" + std::string(ssdp_refusal_name(SsdpRefusal(r))), sc.responder.refused[r]);
    }
    return JsonObject()
        .add("ok", true)
        .add("version", GATEWAYD_VERSION)
        .add("pid", std::int64_t(getpid()))
        .add("config_path", config_path_)
        .add("wan_address", engine.wan_address.to_string())
        .add_raw("wan", wan_ ? wan_->json() : alone.json())
        .add_raw("upstream", upstream_ ? upstream_status_json(upstream_->status()) : std::string("null"))
        .add("wan_interface", engine.wan_interface)
        .add("lan_interface", engine.lan_interface)
        .add("uptime_seconds", std::int64_t((now - started_).count() / 1000))
        .add("filtering", filtering_behaviour_name(engine.filtering))
        .add("flows", std::uint64_t(engine.flows))
        .add("nat_mappings", std::uint64_t(engine.nat_mappings))
        .add("upnp_mappings", std::uint64_t(mapping_service_ ? mapping_service_->mapping_count() : 0))
        .add("upnp", igd_ != nullptr)
        .add("timed_forwards", std::uint64_t(mapping_service_ ? mapping_service_->timed_forwards().size() : 0))
        .add("rules", std::uint64_t(engine.rules))
        .add_raw("counters", counters.str())
        .add_raw("upnp_refusals", upnp_refusals.str())
        .add_raw("upnp_pinholes", json_array(pinholes))
        .add_raw("ipv6", ipv6_status())
        .add("port_control", port_control_ != nullptr)
        .add_raw("front_ends", front_ends_ ? front_ends_->json() : std::string("{}"))
        .add_raw("port_control_counts", port_control.str())
        .add_raw("ssdp", ssdp.str())
        // Source trust (issue 14): the LAN neighbours known, and the kernel asked on misses.
        .add_raw("lan_neighbours", lan_neighbours_ ? JsonObject()
                                                         .add("entries", std::uint64_t(lan_neighbours_->size()))
                                                         .add("kernel_queries", lan_neighbours_->kernel_queries())
                                                         .add("resolutions_asked", lan_neighbours_->resolutions_asked())
                                                         .str()
                                                   : std::string("null"))
        .add_raw("queues", workers_ ? queue_rows(*workers_) : json_array({}))
        // The kernel's reassembly ahead of the queue (fragments in any order, RFC 4787 REQ-14).
        .add_raw("ip_reassembly", ip_reassembly_json(read_ip_reassembly_stats()))
        .add_raw("warnings", json_array(warnings))
        .str();
}

// The static forwards (enabled or not) and the timed ones with their time left, as
// `mappings` and `forwards list` show them.
std::vector<std::string> GatewayControl::forward_rows(Instant now) const {
    std::vector<std::string> forwards;
    // The forwards and what went through each, in one hold (the engine's table is the
    // one the counts belong to).
    const auto static_forwards = engine_.with([](const PacketEngine& e) {
        return std::pair{e.forwards().forwards(), e.forwards().static_counts()};
    });
    for (std::size_t i = 0; i < static_forwards.first.size(); ++i) {
        const PortForward& f = static_forwards.first[i];
        const TrafficCount& count = static_forwards.second[i];
        forwards.push_back(JsonObject()
                               .add("name", f.name)
                               .add("protocol", protocol_name(f.protocol))
                               .add("external_ports", f.external_ports.to_string())
                               .add("internal", to_string(f.internal))
                               .add("enabled", f.enabled)
                               .add_null("expires_in_seconds")
                               .add("packets", count.packets)
                               .add("bytes", count.bytes)
                               .str());
    }
    const auto timed = mapping_service_ ? mapping_service_->timed_forwards() : std::vector<TimedForward>{};
    const auto timed_counts =
        dynamic_counts(engine_, timed, [](const TimedForward& t) { return std::pair{t.forward.protocol, t.forward.external}; });
    for (std::size_t i = 0; i < timed.size(); ++i) {
        const TimedForward& t = timed[i];
        forwards.push_back(JsonObject()
                               .add("name", t.name)
                               .add("protocol", protocol_name(t.forward.protocol))
                               .add("external_ports", std::to_string(t.forward.external.value))
                               .add("internal", to_string(t.forward.internal))
                               .add("enabled", true)
                               .add("expires_in_seconds", std::int64_t((t.expires - now).count() + 999) / 1000)
                               .add("packets", timed_counts[i].packets)
                               .add("bytes", timed_counts[i].bytes)
                               .str());
    }
    return forwards;
}

std::string GatewayControl::forwards_list(Instant now) const {
    return JsonObject().add("ok", true).add_raw("forwards", json_array(forward_rows(now))).str();
}

std::string GatewayControl::mappings(Instant now) const {
    std::vector<std::string> upnp;
    const auto listed = mapping_service_ ? mapping_service_->mappings() : std::vector<PortMapping>{};
    // Taken from the service first (its mutex), then the counts in one engine hold.
    const auto counts =
        dynamic_counts(engine_, listed, [](const PortMapping& m) { return std::pair{m.protocol, m.external}; });
    for (std::size_t i = 0; i < listed.size(); ++i) {
            const auto& m = listed[i];
            JsonObject o;
            o.add("protocol", protocol_name(m.protocol)).add("external_port", std::uint64_t(m.external.value));
            o.add("internal", to_string(m.internal)).add("remote_host", m.remote_host ? m.remote_host->to_string() : "*");
            o.add("owner", m.owner.to_string()).add("description", m.description).add("enabled", m.enabled);
            if (m.expires) o.add("lease_seconds", std::uint64_t(remaining_lease_seconds(m, now)));
            else o.add_null("lease_seconds");
            o.add("packets", counts[i].packets).add("bytes", counts[i].bytes);
            upnp.push_back(o.str());
    }
    std::vector<std::string> forwards = forward_rows(now);
    return JsonObject().add("ok", true).add_raw("upnp", json_array(upnp)).add_raw("forwards", json_array(forwards)).str();
}

std::string GatewayControl::forwards(const std::vector<std::string>& words) {
    if (words.size() >= 2 && words[1] == "add") return add_timed_forward(words);
    if (words.size() == 3 && words[1] == "delete") return delete_timed_forward(words[2]);
    if (words.size() != 3 || (words[1] != "enable" && words[1] != "disable"))
        return control_usage_error("usage: forwards [list], forwards enable|disable NAME, forwards delete NAME, or forwards "
                             "add NAME tcp|udp PORT ADDRESS:PORT --for DURATION");
    bool enable = words[1] == "enable";
    EngineSetup setup = engine_.with([](const PacketEngine& e) { return e.setup(); });
    auto& list = setup.firewall.forwards;
    auto it = std::find_if(list.begin(), list.end(), [&](const PortForward& f) { return f.name == words[2]; });
    if (it == list.end()) return control_error("no static forward named '" + words[2] + "'");
    if (it->enabled == enable) return control_ok("forward " + words[2] + " is already " + words[1] + "d");
    it->enabled = enable;
    if (auto refused = use_engine_setup(setup, "forward " + words[2]); !refused.empty())
        return control_error("forward " + words[2] + " unchanged", refused);
    for (auto& f : config_.firewall.forwards)
        if (f.name == words[2]) f.enabled = enable;
    std::erase_if(switched_, [&](const auto& s) { return s.first == words[2]; });
    switched_.emplace_back(words[2], enable);
    save_state();
    log::info("forward " + words[2] + " " + words[1] + "d by gatewayctl (until the next reload)");
    return control_ok("forward " + words[2] + " " + words[1] + "d (until the next reload)");
}

// `forwards delete NAME`: a timed forward ends before its time, through the mapping
// service like its opening (static forwards are switched off with `forwards disable`).
std::string GatewayControl::delete_timed_forward(const std::string& name) {
    if (!mapping_service_) return control_error("timed forwards are not available in this daemon");
    auto closed = mapping_service_->close_timed_forward(name);
    if (!closed) return control_error(closed.error().message);
    save_state();
    log::info("forward " + name + " (" + std::string(protocol_name(closed->forward.protocol)) + " " +
              std::to_string(closed->forward.external.value) + ") closed by gatewayctl before its time");
    return control_ok("forward " + name + " closed");
}

std::string GatewayControl::add_timed_forward(const std::vector<std::string>& words) {
    const char* usage = "usage: forwards add NAME tcp|udp EXTERNAL_PORT ADDRESS:PORT --for DURATION (30s, 10m, 2h)";
    if (words.size() != 8 || words[6] != "--for") return control_usage_error(usage);
    const std::string& name = words[2];
    auto protocol = protocol_named(words[3]);
    auto external = port_number(words[4]);
    auto colon = words[5].rfind(':');
    auto address = colon == std::string::npos ? std::nullopt : Ipv4Address::parse(words[5].substr(0, colon));
    auto internal_port = colon == std::string::npos ? std::nullopt : port_number(words[5].substr(colon + 1));
    auto seconds = duration_seconds(words[7]);
    if (!protocol || *protocol == Protocol::icmp || !external || !address || !internal_port || !seconds)
        return control_usage_error(usage);
    struct Checked {
        bool static_name_taken = false;
        LanAddressClass lan_class = LanAddressClass::outside_lan;
        std::vector<Ipv4Network> lan_networks;
    };
    const Checked checked = engine_.with([&](const PacketEngine& e) {
        Checked c;
        for (const auto& f : e.setup().firewall.forwards) c.static_name_taken |= f.name == name;
        c.lan_class = e.lan_class_of(*address);
        if (c.lan_class == LanAddressClass::outside_lan) c.lan_networks = e.setup().firewall.lan_networks;
        return c;
    });
    if (checked.static_name_taken) return control_error("a static forward is already named '" + name + "'");
    // The same rule as every mapping front end (issue 14): a LAN host, never the gateway
    // itself, a network or broadcast address.
    switch (checked.lan_class) {
        case LanAddressClass::host: break;
        case LanAddressClass::outside_lan:
            return control_error(words[5] + " is not on the LAN (" + to_string_list(checked.lan_networks) + ")");
        case LanAddressClass::gateway: return control_error(words[5] + " is the gateway itself, not a LAN host");
        case LanAddressClass::network:
        case LanAddressClass::broadcast:
            return control_error(words[5] + " is a network or broadcast address of the LAN, not a host");
    }
    if (!mapping_service_) return control_error("timed forwards are not available in this daemon");
    // Through the mapping service, like every front end's opening: it decides against
    // the port mappings, the timed forwards and the static forwards under one lock.
    DynamicForward forward{*protocol, Port{*external}, Endpoint{*address, Port{*internal_port}}, std::nullopt};
    auto opened = mapping_service_->open_timed_forward(name, forward, std::chrono::seconds(*seconds));
    if (!opened) return control_error(opened.error().message);
    save_state();
    log::info("forward " + name + " opened by gatewayctl: " + words[3] + " " + words[4] + " -> " + words[5] + " for " +
              std::to_string(*seconds) + "s");
    return control_ok("forward " + name + " open: " + words[3] + " " + words[4] + " -> " + words[5] + " for " +
                      std::to_string(*seconds) + "s");
}

}  // namespace gw
