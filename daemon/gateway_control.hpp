// What gatewayctl and SIGHUP can do to the running gateway: look at it (status, flows,
// mappings), open and close forwards, delete UPnP mappings and reload the config file.
// Each request becomes one JSON answer (control_socket.hpp has the wire protocol).
//
// Runs on the main loop, without the engine lock. It takes that lock itself, only to copy
// what a view needs (the flow table in parts: control_flow_snapshot.hpp) or to carry out
// one change to the engine (a reconfigure); the JSON, the services' calls (their
// mutexes), the control state file and the log lines all come after the hold
// (locked_engine.hpp has the rule, docs/architecture.md the lock order). Every dynamic
// opening (port mappings, timed forwards) is the mapping service's: gatewayctl is one more
// front end of it, and tells it of every change of the static forwards before the engine
// takes it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/gateway_config.hpp"
#include "daemon/locked_engine.hpp"
#include "firewall/packet_engine.hpp"

namespace gw {

class LanNeighbours;
class InternetGatewayDevice;
class PortMappingService;
class PinholeService;
class PortControlServer;
class SsdpServer;
class CaptureSlot;
struct CaptureFilter;
class QueueWorker;
class UpstreamWorker;
class WanMonitor;
class FrontEndSupervisor;
class DecisionLog;
struct ReloadPlan;

struct ReloadOutcome {
    bool applied = false;
    std::string summary;              // one line: the keys changed (with both values), or why nothing did
    std::vector<std::string> errors;  // file:line:column errors, or one line per key that needs a restart
};

class GatewayControl {
public:
    // `captures`: the daemon loop's capture slot; null = `capture` is refused.
    // `workers`: the queue workers, whose counters status shows; null = none shown.
    // `mapping_service`: the port mappings and timed forwards (null: there are none, and
    // `forwards add` is refused); `igd`: null when UPnP is off.
    GatewayControl(LockedEngine& engine, PortMappingService* mapping_service, InternetGatewayDevice* igd,
                   std::string config_path, GatewayConfig config,
                   Instant started, CaptureSlot* captures = nullptr,
                   const std::vector<std::unique_ptr<QueueWorker>>* workers = nullptr);

    // The NAT-PMP/PCP server whose counts status shows (null: not running). Set before
    // the first request; it outlives this object's use.
    void set_port_control(const PortControlServer* server) { port_control_ = server; }
    // The IPv6 pinholes of every front end (null: pinhole add|delete are refused). Set
    // before the first request; it outlives this object's use.
    void set_pinholes(PinholeService* pinholes) { pinholes_ = pinholes; }
    // Told the firewall config after each change the engine took (reload, forwards
    // enable|disable): the upstream worker's static forwards with upstream: true.
    void set_static_forwards_listener(std::function<void(const FirewallConfig&)> listener) {
        static_forwards_listener_ = std::move(listener);
    }
    // The IGD as the front-end supervisor (re)starts it; null while it does not run.
    void set_igd(InternetGatewayDevice* igd) { igd_ = igd; }
    // The SSDP server whose counts status shows (null: not running); as set_port_control.
    void set_ssdp(const SsdpServer* server) { ssdp_ = server; }
    // The firewall's decision log, whose rate a reload changes (null: none); owned by the
    // daemon loop, written by the workers under the engine lock.
    void set_decision_log(DecisionLog* log) { decision_log_ = log; }

    // One request's words (["flows","--proto","tcp"]) to its JSON answer.
    std::string answer(const std::vector<std::string>& words, Instant now);
    // SIGHUP and `reload`: re-reads the file; a bad one changes nothing, nor one that
    // changes a key set up at start (reload_plan.hpp names which apply in place).
    ReloadOutcome reload();

    // The WAN side's status (class, STUN, cascade) for `status`; owned by the daemon loop.
    // Without one, status classifies the engine's WAN address alone.
    void set_wan_monitor(const WanMonitor* wan) { wan_ = wan; }
    void set_upstream(const UpstreamWorker* upstream) { upstream_ = upstream; }
    void set_front_ends(const FrontEndSupervisor* front_ends) { front_ends_ = front_ends; }
    // Source trust's neighbour snapshot (lan_neighbours.hpp), for status.
    void set_lan_neighbours(const LanNeighbours* neighbours) { lan_neighbours_ = neighbours; }

    // Closes the timed forwards whose time is up (the mapping service's clock decides);
    // the daemon wakes for next_forward_end().
    void expire_timed_forwards(Instant now);
    std::optional<Instant> next_forward_end() const;

private:
    std::string status(Instant now) const;
    std::string flows(const std::vector<std::string>& words, Instant now) const;
    // flows delete / flows6 delete SELECTORS (control_flow_snapshot.hpp).
    std::string delete_flows(const std::vector<std::string>& words);
    std::string delete_ipv6_flows(const std::vector<std::string>& words);
    std::string mappings(Instant now) const;
    // gateway_control_rules.cpp: every rule and policy with its packets and bytes.
    std::string rules() const;
    std::string forwards(const std::vector<std::string>& words);
    std::string forwards_list(Instant now) const;
    std::vector<std::string> forward_rows(Instant now) const;
    std::string add_timed_forward(const std::vector<std::string>& words);
    std::string delete_timed_forward(const std::string& name);
    std::string delete_mapping(const std::vector<std::string>& words);
    std::string reload_answer();
    // capture start ..., capture status, capture stop (packet_capture.hpp).
    std::string capture(const std::vector<std::string>& words, Instant now);
    std::string capture_status(Instant now);
    // Why a capture filter names nothing that exists (a rule, a mapping or forward); none if it does.
    std::optional<std::string> unknown_capture_subject(const CaptureFilter& filter) const;
    // Finishes the capture whose count or time is reached: taken out of the slot under the
    // engine lock, its file flushed and closed after.
    void finish_due_capture(Instant now);
    // IPv6 (gateway_control_ipv6.cpp): status's "ipv6" object, flows6, pinholes, pinhole add|delete.
    std::string ipv6_status() const;
    std::string ipv6_flows(const std::vector<std::string>& words, Instant now) const;
    std::string pinholes() const;
    std::string pinhole_command(const std::vector<std::string>& words);
    // Reload and `forwards enable|disable`: the mapping service closes what the new static
    // forwards take (listings, journal, GENA), then the engine takes them. Refused, with
    // nothing changed, when the engine would refuse `setup`.
    std::vector<std::string> use_engine_setup(const EngineSetup& setup, std::string_view why);
    // A reload the engine took: the decision log's rate and the mapping and pinhole policies.
    void use_policies(const ReloadPlan& plan, const EngineSetup& setup);

    LockedEngine& engine_;
    PortMappingService* mapping_service_;  // null when no port mapping front end runs
    InternetGatewayDevice* igd_;           // null when UPnP is off
    PinholeService* pinholes_ = nullptr;    // null: no pinhole commands
    std::function<void(const FirewallConfig&)> static_forwards_listener_;
    const PortControlServer* port_control_ = nullptr;
    const SsdpServer* ssdp_ = nullptr;
    std::string config_path_;
    GatewayConfig config_;        // as last applied (file, then forwards enable/disable)
    Instant started_;
    CaptureSlot* captures_;  // owned by the daemon loop
    const std::vector<std::unique_ptr<QueueWorker>>* workers_;  // owned by the daemon loop
    const WanMonitor* wan_ = nullptr;                            // owned by the daemon loop
    const UpstreamWorker* upstream_ = nullptr;                   // wan.upstream_mappings; null: none (tests)
    const FrontEndSupervisor* front_ends_ = nullptr;             // owned by the daemon loop
    const LanNeighbours* lan_neighbours_ = nullptr;              // owned by the daemon loop
    DecisionLog* decision_log_ = nullptr;                        // owned by the daemon loop

public:
    // What gatewayctl changed at runtime, kept in `path` (control_state.hpp) across a
    // restart or a crash: reads it and reopens the timed forwards with the time they have
    // left (`wall_now`: Unix seconds) and switches static forwards as they were; from then
    // on every change rewrites the file. Logs what it restored and what it could not.
    void restore_state(const std::string& path, Instant now, std::int64_t wall_now);

private:
    void save_state();
    std::string state_path_;  // empty: nothing is kept
    bool restoring_ = false;
    // `forwards enable|disable` since the last reload: they hold until the next one.
    std::vector<std::pair<std::string, bool>> switched_;
};

// Answers shared by the command files.
std::string control_error(std::string_view message, const std::vector<std::string>& details = {});
std::string control_usage_error(std::string_view message);
std::string control_ok(std::string_view message);

}  // namespace gw
