#include "flow_handover.hpp"

#include <time.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "firewall/flow_snapshot.hpp"
#include "igd/lease_file.hpp"
#include "base/log.hpp"

namespace gw {
namespace {

// Twice a full table of 65535 x 3 mappings' worth of records: anything larger is not ours.
constexpr std::uintmax_t max_snapshot_bytes = 64 * 1024 * 1024;

}  // namespace

std::string state_directory(const GatewayConfig& config) {
    return std::filesystem::path(config.upnp.lease_file).parent_path().string();
}

std::string flow_snapshot_path(const GatewayConfig& config) { return state_directory(config) + "/flows.snapshot"; }

std::string ipv6_flow_snapshot_path(const std::string& path) { return path + ".ipv6"; }

std::string control_state_path(const GatewayConfig& config) { return state_directory(config) + "/control-state"; }

std::int64_t wall_clock_ms() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return std::int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

namespace {

// The IPv6 flows, when there are any: a gateway that forwards no IPv6 writes no file.
void save_ipv6_flow_snapshot(const std::string& path, const PacketEngine& engine, Instant now, std::int64_t wall_now_ms,
                             FlowHandoverSaved& saved) {
    Ipv6FlowSnapshot snapshot{wall_now_ms, engine.save_ipv6_flows(now)};
    if (snapshot.flows.empty()) return;
    for (const auto& f : snapshot.flows)
        if (f.key.protocol == 6 && f.tcp.state == std::uint8_t(TcpState::established)) ++saved.established_tcp;
    auto bytes = encode_ipv6_flow_snapshot(snapshot);
    std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (auto written = write_lease_file_atomically(path, text); !written) {
        log::error("IPv6 flow snapshot " + path + ": " + written.error().message +
                   "; the next start begins without these flows");
        return;
    }
    saved.ipv6_flows = snapshot.flows.size();
    log::info("flow snapshot: " + std::to_string(saved.ipv6_flows) + " IPv6 flows saved to " + path);
}

// Reads and deletes the file at `path` (read once, refused once); what it held, or why nothing.
Expected<std::vector<std::uint8_t>, Error> take_snapshot_file(const std::string& path) {
    std::error_code error;
    auto size = std::filesystem::file_size(path, error);
    if (error) return unexpected(Error{error.message()});
    std::vector<std::uint8_t> bytes;
    if (size <= max_snapshot_bytes) {
        std::ifstream in(path, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
    if (size > max_snapshot_bytes) return unexpected(Error{std::to_string(size) + " bytes is not ours; ignored and removed"});
    return bytes;
}

void restore_ipv6_flow_snapshot(const std::string& path, PacketEngine& engine, Instant now, std::int64_t wall_now_ms) {
    std::error_code error;
    if (!std::filesystem::exists(path, error)) return;  // none saved: no IPv6 flows at the stop
    auto bytes = take_snapshot_file(path);
    if (!bytes) {
        log::warning("IPv6 flow snapshot " + path + ": " + bytes.error().message);
        return;
    }
    auto snapshot = decode_ipv6_flow_snapshot(*bytes);
    if (!snapshot) {
        log::warning("IPv6 flow snapshot " + path + " ignored: " + snapshot.error().message);
        return;
    }
    std::int64_t age_ms = wall_now_ms - snapshot->saved_at_unix_ms;
    if (age_ms < -5000 || age_ms > flow_snapshot_max_age_ms) {
        log::warning("IPv6 flow snapshot " + path + " ignored: saved " + std::to_string(age_ms / 1000) + " s ago");
        return;
    }
    auto downtime = std::chrono::milliseconds(std::max<std::int64_t>(age_ms, 0));
    auto counts = engine.restore_ipv6_flows(snapshot->flows, downtime, now);
    log::info("flow snapshot: restored " + std::to_string(counts.restored) + " of " +
              std::to_string(snapshot->flows.size()) + " IPv6 flows; dropped " + std::to_string(counts.expired) +
              " whose idle time ran out and " + std::to_string(counts.refused) + " refused");
}

}  // namespace

FlowHandoverSaved save_flow_snapshot(const std::string& path, const PacketEngine& engine, Instant now,
                                     std::int64_t wall_now_ms) {
    FlowSnapshot snapshot{wall_now_ms, engine.save_flows(now)};
    FlowHandoverSaved saved;
    saved.flows = snapshot.flows.size();
    for (const auto& f : snapshot.flows)
        if (f.protocol == Protocol::tcp && f.tcp.state == std::uint8_t(TcpState::established)) ++saved.established_tcp;
    std::error_code ignored;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ignored);
    auto bytes = encode_flow_snapshot(snapshot);
    std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (auto written = write_lease_file_atomically(path, text); !written) {
        log::error("flow snapshot " + path + ": " + written.error().message +
                   "; the next start begins with an empty flow table");
        return saved;
    }
    saved.written = true;
    log::info("flow snapshot: " + std::to_string(saved.flows) + " flows (" + std::to_string(saved.established_tcp) +
              " established TCP) saved to " + path + " for the next start");
    save_ipv6_flow_snapshot(ipv6_flow_snapshot_path(path), engine, now, wall_now_ms, saved);
    return saved;
}

PacketEngine::RestoreCounts restore_flow_snapshot(const std::string& path, PacketEngine& engine, Instant now,
                                                  std::int64_t wall_now_ms) {
    restore_ipv6_flow_snapshot(ipv6_flow_snapshot_path(path), engine, now, wall_now_ms);
    std::error_code error;
    auto size = std::filesystem::file_size(path, error);
    if (error) {
        if (error != std::errc::no_such_file_or_directory)
            log::warning("flow snapshot " + path + ": " + error.message() + "; starting with an empty flow table");
        return {};
    }
    // Deleted whatever happens next: read once, refused once.
    auto forget = [&] {
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
    };
    if (size > max_snapshot_bytes) {
        log::warning("flow snapshot " + path + ": " + std::to_string(size) + " bytes is not ours; ignored and removed");
        forget();
        return {};
    }
    std::ifstream in(path, std::ios::binary);
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    forget();
    auto decoded = decode_flow_snapshot(bytes);
    if (!decoded.snapshot) {
        log::warning("flow snapshot " + path + " ignored: " + decoded.error + "; starting with an empty flow table");
        return {};
    }
    std::int64_t age_ms = wall_now_ms - decoded.snapshot->saved_at_unix_ms;
    // A clock stepped back by more than a slew would explain: the downtime is unknowable.
    if (age_ms < -5000 || age_ms > flow_snapshot_max_age_ms) {
        log::warning("flow snapshot " + path + " ignored: saved " + std::to_string(age_ms / 1000) +
                     " s ago (at most " + std::to_string(flow_snapshot_max_age_ms / 1000) +
                     " s is a restart); starting with an empty flow table");
        return {};
    }
    auto downtime = std::chrono::milliseconds(std::max<std::int64_t>(age_ms, 0));
    auto counts = engine.restore_flows(decoded.snapshot->flows, downtime, now);
    log::info("flow snapshot: restored " + std::to_string(counts.restored) + " of " +
              std::to_string(decoded.snapshot->flows.size()) + " flows after " + std::to_string(downtime.count()) +
              " ms down; dropped " + std::to_string(counts.expired) + " whose idle time ran out and " +
              std::to_string(counts.refused) + " whose port is no longer free");
    return counts;
}

}  // namespace gw
