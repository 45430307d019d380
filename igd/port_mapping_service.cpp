#include "igd/port_mapping_service.hpp"

#include <algorithm>
#include <filesystem>

#include "base/log.hpp"
#include "igd/lease_file.hpp"

namespace gw {
namespace {

std::string describe_port(const PortMapping& m) {
    return std::string(protocol_name(m.protocol)) + " " + std::to_string(m.external.value) + " -> " +
           to_string(m.internal);
}

}  // namespace

PortMappingService::PortMappingService(const IgdConfig& config,
                                       std::vector<std::pair<Protocol, PortRange>> static_ports,
                                       EngineCommandQueue& commands, ServiceClock clock, JournalStorage& storage)
    : config_(config),
      commands_(commands),
      clock_(std::move(clock)),
      policy_(config, static_ports),
      journal_(config.lease_file, config.lease_sync, storage),
      static_ports_(std::move(static_ports)) {}

PortMappingService::~PortMappingService() {
    if (!started_) return;
    // A clean stop leaves the file compact: the next start reads one line a mapping.
    std::lock_guard lock(mutex_);
    compact_lease_file();
}

void PortMappingService::start() {
    std::lock_guard lock(mutex_);
    // Outside systemd (which makes StateDirectory=) the lease file's directory may be missing.
    std::error_code ignored;
    std::filesystem::create_directories(std::filesystem::path(config_.lease_file).parent_path(), ignored);
    Expected<std::string> file = read_lease_file(config_.lease_file);
    if (!file) log::warning("lease file " + config_.lease_file + ": " + file.error().message + "; starting without it");
    Instant now = clock_.now();
    LeaseFileReadResult saved = parse_leases(file.value_or(""), clock_.wall_seconds(), now, config_.lease_file);
    for (const auto& error : saved.errors) log::warning(error + " (line skipped, the others restored)");
    RestoreReport report = policy_.restore(std::move(saved.mappings), now);
    for (const auto& refused : report.refused)
        log::warning("lease for " + std::string(protocol_name(refused.mapping.protocol)) + " " +
                     std::to_string(refused.mapping.external.value) + " not restored: " +
                     std::string(upnp_error_description(refused.reason)));
    for (const auto& mapping : policy_.all()) open_in_packet_path(mapping);
    log::info("port mappings: restored " + std::to_string(report.restored) + " from " + config_.lease_file + " (" +
              std::to_string(saved.expired + report.expired) + " had expired)");
    // Also drops what replay skipped (a torn tail) before anything is appended.
    compact_lease_file();
    record("");
    started_ = true;
}

void PortMappingService::carry_out(const MappingChanges& changes, Instant now) {
    if (changes.empty()) return;
    std::string lines;
    // Removals first: a removed port granted again in the same change ends open.
    for (const auto& m : changes.removed) {
        close_in_packet_path(m);
        lines += serialize_lease_removal(m.protocol, m.external);
    }
    std::int64_t wall_now = clock_.wall_seconds();
    for (const auto& m : changes.granted) {
        open_in_packet_path(m);
        lines += serialize_lease_line(m, wall_now, now);
    }
    record(lines);
    for (const auto& [id, listener] : listeners_) listener(policy_.size());
}

void PortMappingService::expire_leases() {
    // The daemon's loop calls this every tick: without an ended lease it must not wait
    // for a front end that holds the lock through a lease file fsync.
    if (clock_.now().count() < next_lease_end_ms_.load(std::memory_order_relaxed)) return;
    std::lock_guard lock(mutex_);
    Instant now = clock_.now();
    MappingChanges changes;
    changes.removed = policy_.expire(now);
    for (const auto& mapping : changes.removed)
        log::info("lease ended: " + describe_port(mapping) + " \"" + mapping.description + "\"");
    carry_out(changes, now);
}

std::size_t PortMappingService::add_change_listener(ChangeListener listener) {
    std::lock_guard lock(mutex_);
    listeners_.emplace_back(++next_listener_id_, std::move(listener));
    return next_listener_id_;
}

void PortMappingService::remove_change_listener(std::size_t id) {
    std::lock_guard lock(mutex_);
    std::erase_if(listeners_, [id](const auto& entry) { return entry.first == id; });
}

std::optional<Instant> PortMappingService::next_lease_end() const {
    auto ms = next_lease_end_ms_.load(std::memory_order_relaxed);
    if (ms == no_lease_end) return std::nullopt;
    return Instant(ms);
}

std::size_t PortMappingService::mapping_count() const { return mapping_count_.load(std::memory_order_relaxed); }

std::vector<PortMapping> PortMappingService::mappings() {
    std::lock_guard lock(mutex_);
    return policy_.all();
}

std::optional<MappingRefusal> PortMappingService::delete_mapping_as_administrator(Protocol protocol, Port external) {
    struct Outcome {
        std::optional<MappingRefusal> refusal = MappingRefusal::no_such_entry;
        MappingChanges changes;
    };
    Outcome outcome = with_policy([&](MappingPolicy& policy, Instant now) {
        Outcome o;
        for (const auto& mapping : policy.all()) {
            if (mapping.protocol != protocol || mapping.external != external) continue;
            // As its owner: secure mode lets only the owner delete, and the administrator
            // stands above it.
            o.refusal = policy.remove(protocol, external, mapping.remote_host, mapping.owner, now);
            if (!o.refusal) {
                o.changes.removed.push_back(mapping);
                log::info("mapping deleted by the administrator: " + describe_port(mapping) + " \"" +
                          mapping.description + "\"");
            }
            break;
        }
        return o;
    });
    return outcome.refusal;
}

PortMappingService::PolicyReloaded PortMappingService::use_policy(const IgdConfig& config) {
    return with_policy([&](MappingPolicy& policy, Instant now) {
        PolicyReloaded reloaded;
        reloaded.changes.granted = policy.reconfigure(config, now);
        reloaded.held_outside_policy = policy.held_outside_policy(now);
        return reloaded;
    });
}

void PortMappingService::set_refusing_upstream_nat(bool refusing) {
    std::lock_guard lock(mutex_);
    policy_.set_refusing_upstream_nat(refusing);
}

void PortMappingService::open_in_packet_path(const PortMapping& mapping) {
    if (!mapping.enabled) return;  // a disabled mapping holds its port and forwards nothing
    commands_.push(OpenPortMapping{{mapping.protocol, mapping.external, mapping.internal, mapping.remote_host}});
}

void PortMappingService::close_in_packet_path(const PortMapping& mapping) {
    commands_.push(ClosePortMapping{mapping.protocol, mapping.external});
}

void PortMappingService::record(std::string_view journal_lines) {
    auto next = policy_.next_expiry();
    next_lease_end_ms_.store(next ? next->count() : no_lease_end, std::memory_order_relaxed);
    mapping_count_.store(policy_.size(), std::memory_order_relaxed);
    if (journal_.wants_compaction(policy_.size()) || !journal_.is_open()) {
        compact_lease_file();
        return;
    }
    if (journal_lines.empty()) return;
    if (auto error = journal_.append(journal_lines)) {
        log::error("lease file " + config_.lease_file + ": " + *error + "; rewriting it whole");
        compact_lease_file();
    }
}

void PortMappingService::compact_lease_file() {
    auto all = policy_.all();
    std::string text = serialize_leases(all, clock_.wall_seconds(), clock_.now());
    auto lines = std::size_t(std::count(text.begin(), text.end(), '\n'));
    if (auto error = journal_.compact(text, lines))
        log::error("lease file " + config_.lease_file + ": " + *error + " (mappings kept in memory)");
}

}  // namespace gw
