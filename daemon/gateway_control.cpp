#include "gateway_control.hpp"

#include <algorithm>
#include <set>
#include <filesystem>

#include "control_json.hpp"
#include "control_state.hpp"
#include "daemon/decision_log.hpp"
#include "daemon/reload_plan.hpp"
#include "igd/pinhole_service.hpp"
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

// The reload's changes, one key each: "nat.timeouts.udp 300 -> 120, ...".
std::string reload_summary(const std::string& path, const ReloadPlan& plan, const GatewayConfig& applied,
                           std::size_t flows) {
    return "reloaded " + path + ": " + change_list(plan.applied) + "; " +
           std::to_string(applied.firewall.rules.size()) + " rules, " + std::to_string(applied.firewall.forwards.size()) +
           " forwards, filtering " + std::string(filtering_behaviour_name(applied.firewall.filtering)) + "; " +
           std::to_string(flows) + " flows kept";
}

bool changed(const ReloadPlan& plan, std::string_view key_prefix) {
    return std::any_of(plan.applied.begin(), plan.applied.end(),
                       [&](const KeyChange& c) { return c.key.starts_with(key_prefix); });
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

// A request gatewayctl got wrong (unknown command, missing or extra words): gatewayctl
// exits 2 for it, as for its own usage errors, and 1 for what the daemon refused.
std::string control_usage_error(std::string_view message) {
    return JsonObject().add("ok", false).add("error", message).add("usage", true).str();
}

std::string control_ok(std::string_view message) { return JsonObject().add("ok", true).add("message", message).str(); }

GatewayControl::GatewayControl(LockedEngine& engine, PortMappingService* mapping_service,
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
    if (command == "flows" && words.size() >= 2 && words[1] == "delete") return delete_flows(words);
    if (command == "flows") return flows(words, now);
    if (command == "mappings" && words.size() == 1) return mappings(now);
    if (command == "mappings" && words.size() >= 2 && words[1] == "delete") return delete_mapping(words);
    if (command == "forwards" && (words.size() == 1 || (words.size() == 2 && words[1] == "list")))
        return forwards_list(now);
    if (command == "forwards") return forwards(words);
    if (command == "reload" && words.size() == 1) return reload_answer();
    if (command == "capture") return capture(words, now);
    if (command == "flows6" && words.size() >= 2 && words[1] == "delete") return delete_ipv6_flows(words);
    if (command == "flows6") return ipv6_flows(words, now);
    if (command == "pinholes" && words.size() == 1) return pinholes();
    if (command == "pinhole") return pinhole_command(words);
    if (command == "rules" && words.size() == 1) return rules();
    static const std::set<std::string> known = {"status", "rules",   "flows",   "mappings", "forwards",
                                                "reload", "capture", "flows6",  "pinholes", "pinhole"};
    std::string rest;
    for (std::size_t i = 1; i < words.size(); ++i) rest += (i > 1 ? " " : "") + words[i];
    if (known.contains(command))
        return control_usage_error("'" + command + "' does not take '" + rest + "' (see gatewayctl --help)");
    return control_usage_error("unknown command '" + command +
                         "' (status, rules, flows [SELECTORS], flows delete SELECTORS, mappings, mappings delete PROTO "
                         "PORT, forwards [list], forwards enable|disable|delete NAME, forwards add NAME PROTO PORT ADDR:PORT --for "
                         "DURATION, reload, capture start|status|stop, flows6 [SELECTORS], flows6 delete SELECTORS, pinholes, "
                         "pinhole add|delete ...; SELECTORS: --proto P --host ADDR --port N --internal ADDR:PORT --remote "
                         "ADDR:PORT)");
}

ReloadOutcome GatewayControl::reload() {
    ReloadOutcome outcome;
    ConfigLoadResult loaded = load_config_file(config_path_);
    if (!loaded.config) {
        outcome.errors = config_report_lines(loaded);
        outcome.summary = std::to_string(loaded.error_count()) + " error(s) in " + config_path_ +
                          "; the running configuration is kept";
        return outcome;
    }
    for (const std::string& warning : config_report_lines(loaded)) log::warning(warning);
    // Key by key: what needs a restart refuses the whole reload, each key on its own line.
    const ReloadPlan plan = plan_reload(config_, *loaded.config);
    for (const auto& change : plan.restart) outcome.errors.push_back(restart_refusal(change));
    EngineSetup setup;
    try {
        setup = prepare_engine_setup(*loaded.config);
    } catch (const StartupError& e) {
        outcome.errors.push_back(e.what());
    }
    if (outcome.errors.empty()) outcome.errors = use_engine_setup(setup, "reload");
    if (outcome.errors.empty())
        for (const std::string& warning : targets_on_the_gateway(*loaded.config, setup)) log::warning(warning);
    if (!outcome.errors.empty()) {
        outcome.summary = "reload of " + config_path_ + " refused; the running configuration is kept";
        return outcome;
    }
    config_ = std::move(*loaded.config);
    use_policies(plan, setup);
    const std::size_t flows = engine_.with([](const PacketEngine& engine) { return engine.flows().size(); });
    // The file decides again which static forwards are on.
    switched_.clear();
    save_state();
    outcome.applied = true;
    outcome.summary = reload_summary(config_path_, plan, config_, flows);
    return outcome;
}

// After the engine took the reload: what the daemon's parts keep of their own, each
// changed by its owner (the decision log under the engine lock, as the workers write it;
// the policies through their services, never under the engine lock).
void GatewayControl::use_policies(const ReloadPlan& plan, const EngineSetup& setup) {
    if (decision_log_ && changed(plan, "firewall.log_lines_per_second"))
        engine_.with([&](PacketEngine&) { decision_log_->set_lines_per_second(config_.firewall.log_lines_per_second); });
    if (pinholes_ && changed(plan, "nat.timeouts."))
        pinholes_->set_outbound_timeouts(config_.timeouts.tcp_established, config_.timeouts.udp);
    if (!changed(plan, "upnp.")) return;
    if (pinholes_ && changed(plan, "upnp.secure_mode")) pinholes_->set_secure_mode(config_.upnp.secure_mode);
    if (!mapping_service_) return;
    auto reloaded = mapping_service_->use_policy(mapping_policy_config(config_, setup));
    // One line, not one per mapping: there may be thousands.
    if (const std::size_t shortened = reloaded.changes.granted.size(); shortened > 0)
        log::info("reload: " + std::to_string(shortened) + " port mapping lease(s) shortened to end within the new " +
                  "upnp.max_lease (" + std::to_string(config_.upnp.max_lease_seconds) + " s)");
    const auto& held = reloaded.held_outside_policy;
    if (held.denied > 0 || held.over_limits > 0)
        log::warning("reload: " + std::to_string(held.denied) + " port mapping(s) held are denied by the new " +
                     "upnp.permissions or upnp.secure_mode and " + std::to_string(held.over_limits) +
                     " are over the new limits; they stay until their leases end (gatewayctl mappings delete ends one "
                     "now)");
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
    if (words.size() != 4) return control_usage_error("usage: mappings delete tcp|udp EXTERNAL_PORT");
    if (!mapping_service_) return control_error("UPnP, NAT-PMP and PCP are off: there are no port mappings");
    std::optional<Protocol> protocol;
    if (words[2] == "tcp") protocol = Protocol::tcp;
    if (words[2] == "udp") protocol = Protocol::udp;
    auto port = PortRange::parse(words[3]);
    if (!protocol || !port || port->first != port->last || port->first == 0)
        return control_usage_error("usage: mappings delete tcp|udp EXTERNAL_PORT");
    if (auto refusal = mapping_service_->delete_mapping_as_administrator(*protocol, Port{std::uint16_t(port->first)}))
        return control_error("no port mapping on " + words[2] + " " + words[3] + " (" +
                             std::string(upnp_error_description(*refusal)) + ")");
    return control_ok("deleted the port mapping on " + words[2] + " " + words[3]);
}

std::optional<std::string> GatewayControl::unknown_capture_subject(const CaptureFilter& filter) const {
    if (filter.rule) {
        // Copied in a short hold; the answer is written after it.
        std::vector<std::string> names = engine_.with([](const PacketEngine& e) {
            std::vector<std::string> copied;
            for (const auto& counter : e.rules().counters()) copied.emplace_back(counter.name);
            return copied;
        });
        if (std::find(names.begin(), names.end(), *filter.rule) != names.end()) return std::nullopt;
        std::string listed;
        for (const auto& name : names) listed += (listed.empty() ? "" : ", ") + name;
        return "no rule is named '" + *filter.rule + "' (" + (names.empty() ? "there are no rules" : "rules: " + listed) +
               ")";
    }
    if (filter.mapping_protocol) {
        Protocol protocol = *filter.mapping_protocol;
        Port port = filter.mapping_port;
        // A NAT mapping (a LAN host's, or one a front end granted) or a forward holds it.
        bool held = engine_.with([&](const PacketEngine& e) {
            return e.mappings().find_by_external(protocol, port) != nullptr ||
                   e.forwards().target_of(protocol, port).has_value();
        });
        if (held) return std::nullopt;
        return "no mapping or forward holds " + std::to_string(port.value) + "/" + std::string(protocol_name(protocol)) +
               " (gatewayctl mappings lists them)";
    }
    return std::nullopt;
}

std::string GatewayControl::capture(const std::vector<std::string>& words, Instant now) {
    if (!captures_) return control_error("captures are not available in this daemon");
    const std::string sub = words.size() >= 2 ? words[1] : "";
    if (sub == "start") {
        auto parsed = parse_capture_request(std::span(words).subspan(2));
        if (!parsed.request) return control_usage_error(parsed.error);
        // A filter that names nothing would capture nothing, silently: refuse it instead.
        if (auto unknown = unknown_capture_subject(parsed.request->filter)) return control_error(*unknown);
        parsed.request->filter.wan_address = engine_.with([](const PacketEngine& e) { return e.wan_address(); });
        // The workers write to the slot's capture with the engine lock held: the capture
        // goes in and out under it, its file is made, flushed and closed outside it.
        finish_due_capture(now);
        auto running = engine_.with([&](PacketEngine&) {
            const PacketCapture* r = captures_->running();
            return r ? std::optional(r->status()) : std::nullopt;
        });
        if (running) return control_error(capture_already_running(*running));
        std::string error;
        auto started = PacketCapture::start(*parsed.request, now, error);
        if (!started) return control_error(error);
        // Only this thread installs: nothing can have started one since the check.
        engine_.with([&](PacketEngine&) { return captures_->install(started); });
        log::info("capture to " + parsed.request->path + " started (" + parsed.request->filter.to_string() + ")");
        return capture_status(now);
    }
    if (sub == "status" && words.size() == 2) return capture_status(now);
    if (sub == "stop" && words.size() == 2) {
        auto running = engine_.with([&](PacketEngine&) { return captures_->take_running(); });
        if (!running) return control_error("no capture is running");
        captures_->keep_finished(std::move(running), "stopped");
        return capture_status(now);
    }
    return control_usage_error("usage: capture start [--mapping PORT/PROTO | --rule NAME | --host ADDRESS] [--count N] "
                         "[--seconds S] [--force] -w FILE, capture status, capture stop");
}

std::string GatewayControl::capture_status(Instant now) {
    finish_due_capture(now);
    // The running capture's count is the workers' to write.
    auto s = engine_.with([&](PacketEngine&) { return captures_->status(); });
    // Nothing to report is an answer, not a refusal (exit 0): "state": "none".
    if (!s)
        return JsonObject().add("ok", true).add("state", "none").add("message", "no capture has run").str();
    if (!s->running && !s->error.empty()) return control_error(s->error);
    JsonObject o;
    o.add("ok", true).add("state", s->running ? "running" : "finished").add("path", s->path).add("filter", s->filter);
    o.add("records", s->records).add("max_records", s->max_records).add("seconds", s->seconds);
    if (s->running) o.add_null("ended_by");
    else o.add("ended_by", s->ended_by);
    return o.str();
}

void GatewayControl::finish_due_capture(Instant now) {
    if (!captures_) return;
    auto due = engine_.with([&](PacketEngine&) { return captures_->take_due(now); });
    if (!due) return;
    std::string reason = CaptureSlot::due_reason(*due);
    captures_->keep_finished(std::move(due), std::move(reason));
}

std::vector<std::string> GatewayControl::use_engine_setup(const EngineSetup& setup, std::string_view why) {
    // Each engine call is one short hold; the service's mutex is never taken inside one.
    auto refused = engine_.with([&](const PacketEngine& engine) { return engine.reconfigure_refusals(setup); });
    if (!refused.empty()) return refused;
    // The service first: what it closes leaves every listing, the lease file and GENA
    // before the engine closes it too, and no grant decided from now on can reach the
    // engine on a port the new static forwards own.
    if (mapping_service_) {
        StaticForwardsTaken taken = mapping_service_->use_static_forwards(static_forward_ports(setup.firewall));
        for (const auto& m : taken.mappings)
            log::warning(std::string(why) + ": the port mapping on " + std::string(protocol_name(m.protocol)) + " " +
                         std::to_string(m.external.value) + " is closed: a static forward now owns the port");
        for (const auto& t : taken.forwards)
            log::warning(std::string(why) + ": the timed forward " + t.name + " is closed: a static forward now owns " +
                         std::string(protocol_name(t.forward.protocol)) + " " + std::to_string(t.forward.external.value));
    }
    auto refused_now = engine_.with([&](PacketEngine& engine) { return engine.reconfigure(setup).refused; });  // checked above: empty
    if (static_forwards_listener_) static_forwards_listener_(setup.firewall);
    return refused_now;
}

// The service's clock decides, as for every lease.
void GatewayControl::expire_timed_forwards(Instant) {
    if (!mapping_service_) return;
    auto ended = mapping_service_->expire_timed_forwards();
    for (const auto& t : ended)
        log::info("forward " + t.name + " (" + std::string(protocol_name(t.forward.protocol)) + " " +
                  std::to_string(t.forward.external.value) + ") closed: its time is up");
    if (!ended.empty()) save_state();
}

std::optional<Instant> GatewayControl::next_forward_end() const {
    return mapping_service_ ? mapping_service_->next_forward_end() : std::nullopt;
}

void GatewayControl::save_state() {
    if (state_path_.empty() || restoring_) return;
    ControlState state;
    const std::int64_t wall_now = wall_clock_seconds();
    if (mapping_service_) {
        const Instant now = mapping_service_->now();  // the clock the forwards' ends are in
        for (const auto& t : mapping_service_->timed_forwards()) {
            // Rounded up: a forward never closes earlier after a restart than it would have.
            auto left = std::chrono::ceil<std::chrono::seconds>(t.expires - now).count();
            state.timed.push_back({t.name, t.forward.protocol, t.forward.external, t.forward.internal, wall_now + left});
        }
    }
    for (const auto& [name, enabled] : switched_) state.switched.push_back({name, enabled});
    if (auto written = write_lease_file_atomically(state_path_, serialize_control_state(state)); !written)
        log::error("control state " + state_path_ + ": " + written.error().message +
                   " (kept in memory; lost at the next restart)");
}

// The mapping service's clock gives the forwards their ends.
void GatewayControl::restore_state(const std::string& path, Instant, std::int64_t wall_now) {
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
        std::string answer = add_timed_forward(words);
        if (answer.find("\"ok\":true") != std::string::npos) ++reopened;
        else log::warning("forward " + t.name + " not reopened: " + answer);
    }
    for (const auto& [name, enabled] : read.state.switched) {
        std::string answer = forwards({"forwards", enabled ? "enable" : "disable", name});
        if (answer.find("\"ok\":true") == std::string::npos)
            log::warning("forward " + name + " not switched " + (enabled ? "on" : "off") + " again: " + answer);
    }
    restoring_ = false;
    log::info("control state: reopened " + std::to_string(reopened) + " timed forwards (" + std::to_string(ran_out) +
              " ran out while down), " + std::to_string(switched_.size()) + " forwards switched by gatewayctl");
    save_state();
}

}  // namespace gw
