#include "gateway_control.hpp"

#include <algorithm>
#include <filesystem>

#include "control_json.hpp"
#include "control_state.hpp"
#include "igd/engine_clock.hpp"
#include "igd/lease_file.hpp"
#include "gateway_daemon.hpp"
#include "igd/internet_gateway_device.hpp"
#include "igd/port_mapping_service.hpp"
#include "base/log.hpp"
#include "packet_capture.hpp"
#include "base/startup_error.hpp"

namespace gw {
namespace {

bool same_upnp(const IgdConfig& a, const IgdConfig& b) {
    return a.enabled == b.enabled && a.igd_version == b.igd_version && a.http_port == b.http_port &&
           a.secure_mode == b.secure_mode && a.max_lease_seconds == b.max_lease_seconds &&
           a.per_client_limit == b.per_client_limit && a.max_mappings == b.max_mappings &&
           a.lease_file == b.lease_file && a.permissions == b.permissions && a.friendly_name == b.friendly_name &&
           a.advertisement_seconds == b.advertisement_seconds;
}

// Keys the daemon (not the engine) sets up once: the queue and the IGD.
std::vector<std::string> daemon_keys_changed(const GatewayConfig& running, const GatewayConfig& wanted) {
    std::vector<std::string> refused;
    if (running.queue_number != wanted.queue_number)
        refused.push_back("nfqueue.queue cannot change while running (" + std::to_string(running.queue_number) +
                          " -> " + std::to_string(wanted.queue_number) + "): restart gatewayd to apply it");
    if (running.queue_workers != wanted.queue_workers)
        refused.push_back("nfqueue.workers cannot change while running (" + std::to_string(running.queue_workers) +
                          " -> " + std::to_string(wanted.queue_workers) + "): restart gatewayd to apply it");
    if (running.queue_socket_buffer_bytes != wanted.queue_socket_buffer_bytes)
        refused.push_back("nfqueue.socket_buffer_bytes cannot change while running: restart gatewayd to apply it");
    // The WAN monitor reads these once, at start.
    if (running.wan_address.has_value() != wanted.wan_address.has_value())
        refused.push_back("wan.address cannot switch between auto and a fixed address while running: restart "
                          "gatewayd to apply it");
    if (running.wan_stun != wanted.wan_stun)
        refused.push_back("wan.stun cannot change while running: restart gatewayd to apply it");
    if (running.cascade_mappings != wanted.cascade_mappings)
        refused.push_back("wan.cascade_mappings cannot change while running: restart gatewayd to apply it");
    if (!same_upnp(running.upnp, wanted.upnp))
        refused.push_back("upnp cannot change while running: restart gatewayd to apply it (mappings are kept in "
                          "the lease file)");
    const PortControlConfig &run = running.port_control, &want = wanted.port_control;
    if (run.natpmp_enabled != want.natpmp_enabled || run.pcp_enabled != want.pcp_enabled ||
        run.pcp_allow_third_party != want.pcp_allow_third_party)
        refused.push_back("natpmp and pcp cannot change while running: restart gatewayd to apply them (mappings are "
                          "kept in the lease file)");
    return refused;
}

}  // namespace

std::string control_error(std::string_view message, const std::vector<std::string>& details) {
    JsonObject o;
    o.add("ok", false).add("error", message);
    if (!details.empty()) {
        std::vector<std::string> items;
        for (const auto& d : details) items.push_back(json_quote(d));
        o.add_raw("errors", json_array(items));
    }
    return o.str();
}

std::string control_ok(std::string_view message) { return JsonObject().add("ok", true).add("message", message).str(); }

GatewayControl::GatewayControl(PacketEngine& engine, PortMappingService* mapping_service,
                               InternetGatewayDevice* igd, std::string config_path, GatewayConfig config,
                               Instant started, CaptureSlot* captures,
                               const std::vector<std::unique_ptr<QueueWorker>>* workers)
    : engine_(engine),
      mapping_service_(mapping_service),
      igd_(igd),
      config_path_(std::move(config_path)),
      config_(std::move(config)),
      started_(started),
      captures_(captures),
      workers_(workers) {}

std::string GatewayControl::answer(const std::vector<std::string>& words, Instant now) {
    const std::string& command = words.front();
    if (command == "status" && words.size() == 1) return status(now);
    if (command == "flows") return flows(words, now);
    if (command == "mappings" && words.size() == 1) return mappings(now);
    if (command == "mappings" && words.size() >= 2 && words[1] == "delete") return delete_mapping(words);
    if (command == "forwards") return forwards(words, now);
    if (command == "reload" && words.size() == 1) return reload_answer();
    if (command == "capture") return capture(words, now);
    if (command == "flows6" && words.size() == 1) return ipv6_flows(now);
    if (command == "pinholes" && words.size() == 1) return pinholes();
    if (command == "pinhole") return pinhole_command(words);
    return control_error("unknown command '" + command +
                         "' (status, flows [--proto P] [--host ADDR] [--port N], mappings, mappings delete PROTO "
                         "PORT, forwards enable|disable NAME, forwards add NAME PROTO PORT ADDR:PORT --for "
                         "DURATION, reload, capture start|status|stop, flows6, pinholes, pinhole add|delete ...)");
}

ReloadOutcome GatewayControl::reload() {
    ReloadOutcome outcome;
    ConfigLoadResult loaded = load_config_file(config_path_);
    if (!loaded.config) {
        for (const auto& e : loaded.errors) outcome.errors.push_back(e.to_string());
        outcome.summary = std::to_string(outcome.errors.size()) + " error(s) in " + config_path_ +
                          "; the running configuration is kept";
        return outcome;
    }
    outcome.errors = daemon_keys_changed(config_, *loaded.config);
    EngineSetup setup;
    try {
        setup = prepare_engine_setup(*loaded.config);
    } catch (const StartupError& e) {
        outcome.errors.push_back(e.what());
    }
    if (outcome.errors.empty()) {
        auto result = engine_.reconfigure(setup);
        outcome.errors = std::move(result.refused);
        for (const auto& closed : result.closed_mappings)
            log::warning("reload: the mapping on " + std::string(protocol_name(closed.protocol)) + " " +
                         std::to_string(closed.external.value) + " is closed: a static forward now owns the port");
    }
    if (!outcome.errors.empty()) {
        outcome.summary = "reload of " + config_path_ + " refused; the running configuration is kept";
        return outcome;
    }
    config_ = std::move(*loaded.config);
    tell_igd_reserved_ports();
    // Timed forwards stay open unless a static forward now owns their port.
    std::erase_if(timed_, [&](const TimedForward& t) {
        return !engine_.has_port_mapping(t.forward.protocol, t.forward.external);
    });
    // The file decides again which static forwards are on.
    switched_.clear();
    save_state(monotonic_now());
    outcome.applied = true;
    outcome.summary = "reloaded " + config_path_ + ": " + std::to_string(config_.firewall.rules.size()) + " rules, " +
                      std::to_string(config_.firewall.forwards.size()) + " forwards, filtering " +
                      std::string(filtering_behaviour_name(config_.firewall.filtering)) + "; " +
                      std::to_string(engine_.flows().size()) + " flows kept";
    return outcome;
}

std::string GatewayControl::reload_answer() {
    ReloadOutcome outcome = reload();
    if (outcome.applied) {
        log::info(outcome.summary);
        return control_ok(outcome.summary);
    }
    log::warning(outcome.summary);
    for (const auto& e : outcome.errors) log::warning("  " + e);
    return control_error(outcome.summary, outcome.errors);
}

std::string GatewayControl::delete_mapping(const std::vector<std::string>& words) {
    if (words.size() != 4) return control_error("usage: mappings delete tcp|udp EXTERNAL_PORT");
    if (!mapping_service_) return control_error("UPnP, NAT-PMP and PCP are off: there are no port mappings");
    std::optional<Protocol> protocol;
    if (words[2] == "tcp") protocol = Protocol::tcp;
    if (words[2] == "udp") protocol = Protocol::udp;
    auto port = PortRange::parse(words[3]);
    if (!protocol || !port || port->first != port->last || port->first == 0)
        return control_error("usage: mappings delete tcp|udp EXTERNAL_PORT");
    if (auto refusal = mapping_service_->delete_mapping_as_administrator(*protocol, Port{std::uint16_t(port->first)}))
        return control_error("no port mapping on " + words[2] + " " + words[3] + " (" +
                             std::string(upnp_error_description(*refusal)) + ")");
    return control_ok("deleted the port mapping on " + words[2] + " " + words[3]);
}

std::string GatewayControl::capture(const std::vector<std::string>& words, Instant now) {
    if (!captures_) return control_error("captures are not available in this daemon");
    const std::string sub = words.size() >= 2 ? words[1] : "";
    if (sub == "start") {
        auto parsed = parse_capture_request(std::span(words).subspan(2));
        if (!parsed.request) return control_error(parsed.error);
        parsed.request->filter.wan_address = engine_.wan_address();
        if (auto error = captures_->start(*parsed.request, now); !error.empty()) return control_error(error);
        log::info("capture to " + parsed.request->path + " started (" + parsed.request->filter.to_string() + ")");
        return capture_status(now);
    }
    if (sub == "status" && words.size() == 2) return capture_status(now);
    if (sub == "stop" && words.size() == 2) {
        if (!captures_->stop("stopped")) return control_error("no capture is running");
        return capture_status(now);
    }
    return control_error("usage: capture start [--mapping PORT/PROTO | --rule NAME | --host ADDRESS] [--count N] "
                         "[--seconds S] [--force] -w FILE, capture status, capture stop");
}

std::string GatewayControl::capture_status(Instant now) {
    captures_->expire(now);
    auto s = captures_->status();
    if (!s) return control_error("no capture has run");
    if (!s->running && !s->error.empty()) return control_error(s->error);
    JsonObject o;
    o.add("ok", true).add("state", s->running ? "running" : "finished").add("path", s->path).add("filter", s->filter);
    o.add("records", s->records).add("max_records", s->max_records).add("seconds", s->seconds);
    if (s->running) o.add_null("ended_by");
    else o.add("ended_by", s->ended_by);
    return o.str();
}

// The mapping policy must refuse what static and timed forwards hold (729): the IGD
// never opens a port behind their back, nor they behind its.
void GatewayControl::tell_igd_reserved_ports() {
    if (!mapping_service_) return;
    auto reserved = static_forward_ports(engine_.setup().firewall);
    for (const auto& t : timed_)
        reserved.emplace_back(t.forward.protocol, PortRange{t.forward.external.value, t.forward.external.value});
    mapping_service_->set_reserved_ports(std::move(reserved));
}

void GatewayControl::expire_timed_forwards(Instant now) {
    auto ended = std::erase_if(timed_, [&](const TimedForward& t) {
        if (now < t.expires) return false;
        engine_.close_port_mapping(t.forward.protocol, t.forward.external);
        log::info("forward " + t.name + " (" + std::string(protocol_name(t.forward.protocol)) + " " +
                  std::to_string(t.forward.external.value) + ") closed: its time is up");
        return true;
    });
    if (ended > 0) {
        tell_igd_reserved_ports();
        save_state(now);
    }
}

std::optional<Instant> GatewayControl::next_forward_end() const {
    std::optional<Instant> next;
    for (const auto& t : timed_)
        if (!next || t.expires < *next) next = t.expires;
    return next;
}

void GatewayControl::save_state(Instant now) {
    if (state_path_.empty() || restoring_) return;
    ControlState state;
    const std::int64_t wall_now = wall_clock_seconds();
    for (const auto& t : timed_) {
        // Rounded up: a forward never closes earlier after a restart than it would have.
        auto left = std::chrono::ceil<std::chrono::seconds>(t.expires - now).count();
        state.timed.push_back({t.name, t.forward.protocol, t.forward.external, t.forward.internal, wall_now + left});
    }
    for (const auto& [name, enabled] : switched_) state.switched.push_back({name, enabled});
    if (auto written = write_lease_file_atomically(state_path_, serialize_control_state(state)); !written)
        log::error("control state " + state_path_ + ": " + written.error().message +
                   " (kept in memory; lost at the next restart)");
}

void GatewayControl::restore_state(const std::string& path, Instant now, std::int64_t wall_now) {
    state_path_ = path;
    std::error_code ignored;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ignored);
    Expected<std::string> file = read_lease_file(path);
    if (!file) log::warning("control state " + path + ": " + file.error().message + "; starting without it");
    if (!file || file->empty()) return;
    ControlStateRead read = parse_control_state(*file, path);
    for (const auto& e : read.errors) log::warning("control state: " + e + " (line skipped)");
    restoring_ = true;
    std::size_t reopened = 0, ran_out = 0;
    for (const auto& t : read.state.timed) {
        std::int64_t left = t.expires_unix - wall_now;
        if (left <= 0) {
            ++ran_out;
            log::info("forward " + t.name + " not reopened: its time ran out while gatewayd was down");
            continue;
        }
        // Through gatewayctl's own checks: the LAN, the port's owner, the name.
        std::vector<std::string> words{"forwards", "add", t.name, std::string(protocol_name(t.protocol)),
                                       std::to_string(t.external.value), to_string(t.internal),
                                       "--for", std::to_string(left) + "s"};
        std::string answer = add_timed_forward(words, now);
        if (answer.find("\"ok\":true") != std::string::npos) ++reopened;
        else log::warning("forward " + t.name + " not reopened: " + answer);
    }
    for (const auto& [name, enabled] : read.state.switched) {
        std::string answer = forwards({"forwards", enabled ? "enable" : "disable", name}, now);
        if (answer.find("\"ok\":true") == std::string::npos)
            log::warning("forward " + name + " not switched " + (enabled ? "on" : "off") + " again: " + answer);
    }
    restoring_ = false;
    log::info("control state: reopened " + std::to_string(reopened) + " timed forwards (" + std::to_string(ran_out) +
              " ran out while down), " + std::to_string(switched_.size()) + " forwards switched by gatewayctl");
    save_state(now);
}

}  // namespace gw
