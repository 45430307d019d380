#include "igd/pinhole_service.hpp"

#include <algorithm>
#include <filesystem>

#include "base/log.hpp"
#include "igd/lease_file.hpp"
#include "igd/pinhole_file.hpp"

namespace gw {
namespace {

std::string protocol_text(std::uint16_t protocol) {
    if (protocol == ip_protocol_tcp) return "tcp";
    if (protocol == ip_protocol_udp) return "udp";
    if (protocol == any_ip_protocol) return "any";
    return "protocol " + std::to_string(protocol);
}

std::string describe(const Pinhole& p) {
    return protocol_text(p.protocol) + " [" + (p.remote_host ? p.remote_host->to_string() : std::string("*")) + "]:" +
           (p.remote_port ? std::to_string(p.remote_port) : std::string("*")) + " -> [" +
           p.internal_client.to_string() + "]:" + (p.internal_port ? std::to_string(p.internal_port) : std::string("*"));
}

}  // namespace

PinholeService::PinholeService(const IgdConfig& config, PinholeEnvironment environment, EngineCommandQueue& commands,
                               ServiceClock clock)
    : commands_(commands),
      clock_(std::move(clock)),
      policy_(config.pinholes, config.secure_mode, std::move(environment)),
      journal_(pinhole_file_path(config.lease_file), config.lease_sync) {}

PinholeService::~PinholeService() {
    if (!started_) return;
    // A clean stop leaves the file compact: the next start reads one line a pinhole.
    std::lock_guard lock(mutex_);
    compact();
}

void PinholeService::start() {
    std::lock_guard lock(mutex_);
    const std::string& path = journal_.path();
    std::error_code ignored;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ignored);
    Expected<std::string> file = read_lease_file(path);
    if (!file) log::warning("pinhole file " + path + ": " + file.error().message + "; starting without it");
    Instant now = clock_.now();
    PinholeFileReadResult saved = parse_pinholes(file.value_or(""), clock_.wall_seconds(), now, path);
    for (const auto& error : saved.errors) log::warning(error + " (line skipped, the others restored)");
    PinholeRestoreReport report = policy_.restore(std::move(saved.pinholes), now);
    for (const auto& [lease, reason] : report.refused)
        log::warning("pinhole " + std::to_string(lease.pinhole.id) + " not restored: " +
                     std::string(upnp_error_description(upnp_error_of(reason))));
    for (const auto& lease : policy_.all()) commands_.push(OpenPinhole{lease.pinhole});
    log::info("pinholes: restored " + std::to_string(report.restored) + " IPv6 pinholes from " + path + " (" +
              std::to_string(saved.expired + report.expired) + " had expired)");
    compact();
    record("");
    started_ = true;
}

PinholeGrant PinholeService::add(const PinholeRequest& request, const Ipv6Address& requester,
                                 std::string_view origin) {
    std::lock_guard lock(mutex_);
    Instant now = clock_.now();
    auto outcome = policy_.add(request, requester, now);
    if (const auto* lease = std::get_if<PinholeLease>(&outcome)) {
        commands_.push(OpenPinhole{lease->pinhole});
        record(serialize_pinhole_line(*lease, clock_.wall_seconds(), now));
        log::info(std::string(origin) + ": pinhole " + std::to_string(lease->pinhole.id) + " granted to " +
                  requester.to_string() + ": " + describe(lease->pinhole) + ", lease " +
                  std::to_string(remaining_seconds(*lease, now)) + " s");
    }
    return pinhole_grant(std::move(outcome));
}

PinholeGrant PinholeService::update(std::uint16_t id, std::uint32_t lease_seconds, const Ipv6Address& requester,
                                    std::string_view origin) {
    std::lock_guard lock(mutex_);
    Instant now = clock_.now();
    auto outcome = policy_.update(id, lease_seconds, requester, now);
    if (const auto* lease = std::get_if<PinholeLease>(&outcome)) {
        record(serialize_pinhole_line(*lease, clock_.wall_seconds(), now));
        log::info(std::string(origin) + ": pinhole " + std::to_string(id) + " renewed by " + requester.to_string() +
                  " for " + std::to_string(lease_seconds) + " s");
    }
    return pinhole_grant(std::move(outcome));
}

PinholeGrant PinholeService::remove(std::uint16_t id, const Ipv6Address& requester, std::string_view origin) {
    std::lock_guard lock(mutex_);
    auto outcome = policy_.remove(id, requester, clock_.now());
    if (const auto* lease = std::get_if<PinholeLease>(&outcome)) {
        commands_.push(ClosePinhole{id});
        record(serialize_pinhole_removal(id));
        log::info(std::string(origin) + ": pinhole " + std::to_string(id) + " deleted by " + requester.to_string() +
                  ": " + describe(lease->pinhole));
    }
    return pinhole_grant(std::move(outcome));
}

PinholeGrant PinholeService::owned(std::uint16_t id, const Ipv6Address& requester) {
    std::lock_guard lock(mutex_);
    return pinhole_grant(policy_.owned(id, requester, clock_.now()));
}

void PinholeService::set_secure_mode(bool secure_mode) {
    std::lock_guard lock(mutex_);
    policy_.set_secure_mode(secure_mode);
}

void PinholeService::set_outbound_timeouts(std::uint32_t tcp_seconds, std::uint32_t udp_seconds) {
    std::lock_guard lock(mutex_);
    policy_.set_outbound_timeouts(tcp_seconds, udp_seconds);
}

std::variant<std::uint32_t, PinholeRefusal> PinholeService::outbound_timeout(std::uint16_t protocol) {
    std::lock_guard lock(mutex_);
    return policy_.outbound_timeout(protocol);
}

void PinholeService::expire() {
    // The daemon's loop calls this every turn: it must not wait for a front end that holds
    // the lock through a journal fsync unless a lease has ended.
    if (clock_.now().count() < next_lease_end_ms_.load(std::memory_order_relaxed)) return;
    std::lock_guard lock(mutex_);
    std::vector<PinholeLease> ended = policy_.expire(clock_.now());
    std::string removals;
    for (const auto& lease : ended) {
        commands_.push(ClosePinhole{lease.pinhole.id});
        removals += serialize_pinhole_removal(lease.pinhole.id);
        log::info("pinhole " + std::to_string(lease.pinhole.id) + " lease ended: " + describe(lease.pinhole));
    }
    record(removals);
}

std::optional<Instant> PinholeService::next_lease_end() const {
    auto ms = next_lease_end_ms_.load(std::memory_order_relaxed);
    if (ms == no_lease_end) return std::nullopt;
    return Instant(ms);
}

std::vector<PinholeLease> PinholeService::all() {
    std::lock_guard lock(mutex_);
    return policy_.all();
}

void PinholeService::record(std::string_view lines) {
    auto next = policy_.next_expiry();
    next_lease_end_ms_.store(next ? next->count() : no_lease_end, std::memory_order_relaxed);
    if (journal_.wants_compaction(policy_.size()) || !journal_.is_open()) {
        compact();
        return;
    }
    if (lines.empty()) return;
    if (auto error = journal_.append(lines)) {
        log::error("pinhole file " + journal_.path() + ": " + *error + "; rewriting it whole");
        compact();
    }
}

void PinholeService::compact() {
    std::string text = serialize_pinholes(policy_.all(), clock_.wall_seconds(), clock_.now());
    auto lines = std::size_t(std::count(text.begin(), text.end(), '\n'));
    if (auto error = journal_.compact(text, lines))
        log::error("pinhole file " + journal_.path() + ": " + *error + " (pinholes kept in memory)");
}

}  // namespace gw
