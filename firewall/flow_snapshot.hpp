// The flow table handed from one gatewayd to the next across a graceful restart or an
// upgrade: what every live flow was at the stop (endpoints, external port, origin, TCP
// tracker, whether it holds its mapping, how much of its idle timer was left), stamped
// with the wall clock so that the next start can take the downtime off the timers.
// Engine time (Instant) is per process start only in replay and tests, and per boot in
// the daemon; the wall clock is what both sides of a restart (or a reboot) share.
//
// The format is binary, little-endian, versioned and checksummed:
//   "GWFLOWS\n" | u32 version | i64 saved_at (Unix ms) | u32 count | count x record | u64 FNV-1a
// A record is fixed-size (flow_snapshot_record_bytes). The file is untrusted input: a
// wrong magic, another version, a short or long file, a bad checksum, an enum out of
// range or a hairpin link that does not point back comes back as an error, never a crash
// (a fuzz-like unit test feeds it garbage and every truncation).
//
// Pure: encode/decode only. The engine turns flows into SavedFlows and back
// (PacketEngine::save_flows/restore_flows); the daemon does the file I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "firewall/flow.hpp"

namespace gw {

inline constexpr std::uint32_t flow_snapshot_version = 1;
inline constexpr std::size_t flow_snapshot_record_bytes = 63;
// Far above any nat.max_mappings (65535 ports x 3 protocols): a count above it is not ours.
inline constexpr std::uint32_t flow_snapshot_max_flows = 1u << 22;

struct SavedFlow {
    Protocol protocol = Protocol::udp;
    FlowOrigin origin = FlowOrigin::lan;
    TimeoutClass timeout_class = TimeoutClass::udp;
    bool reply_seen = false;
    bool holds_mapping = false;  // the flow holds a reference on the mapping (protocol, internal, external)
    Endpoint internal;
    Endpoint remote;
    Port external;
    std::uint32_t idle_left_ms = 0;  // of its idle timer, at saved_at
    // Hairpin pairs: index + 1 of the linked flow in the snapshot; 0 = none.
    std::uint32_t peer = 0;
    TcpTracker::Saved tcp;
    bool operator==(const SavedFlow&) const = default;
};

struct FlowSnapshot {
    std::int64_t saved_at_unix_ms = 0;
    std::vector<SavedFlow> flows;
    bool operator==(const FlowSnapshot&) const = default;
};

std::vector<std::uint8_t> encode_flow_snapshot(const FlowSnapshot& snapshot);

struct FlowSnapshotDecoded {
    std::optional<FlowSnapshot> snapshot;
    std::string error;  // why there is none: "bad magic", "version 7 (this gatewayd reads 1)", ...
};
FlowSnapshotDecoded decode_flow_snapshot(std::span<const std::uint8_t> bytes);

}  // namespace gw
