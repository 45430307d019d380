// The pinhole file: the IGD's IPv6 pinholes across a restart, in a journal of its own
// beside the lease file (<lease_file>.pinholes), kept by a LeaseJournal exactly as the
// port mappings are (append a line per change, compact when it has grown):
//
//   gatewayd-pinholes 1
//   7 proto=6 remote=* rport=0 client=2001:db8:1::20 iport=5000 owner=2001:db8:1::20 expires=1767225600
//   del 7
//
// The first word is the UniqueID (clients hold it, so it survives the restart), then
// every field exactly once. `expires` is wall-clock Unix seconds, like the lease file's.
// Replaying the journal, the last line about a UniqueID wins. The file is untrusted
// input: a bad line comes back as "pinholes:3: bad client 'x'", and every other line is
// still read; PinholePolicy::restore re-checks what was read. Pure: the caller reads
// the file (read_lease_file) and journals (LeaseJournal).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "igd/pinhole_policy.hpp"

namespace gw {

inline constexpr std::string_view pinhole_file_header = "gatewayd-pinholes 1";

// Where the pinholes are kept for a given lease file.
inline std::string pinhole_file_path(const std::string& lease_file) { return lease_file + ".pinholes"; }

// One pinhole's line, newline included (what a grant or an update appends).
std::string serialize_pinhole_line(const PinholeLease& lease, std::int64_t wall_clock_now_seconds, Instant engine_now);
// "del 7\n": the line that ends a pinhole.
std::string serialize_pinhole_removal(std::uint16_t id);
// The header and one line per pinhole whose lease is not over at `engine_now`.
std::string serialize_pinholes(const std::vector<PinholeLease>& leases, std::int64_t wall_clock_now_seconds,
                               Instant engine_now);

struct PinholeFileReadResult {
    std::vector<PinholeLease> pinholes;  // expires in engine time, from engine_now; by UniqueID
    std::vector<std::string> errors;     // "<source>:<line>: <what is wrong>"
    std::size_t expired = 0;             // leases that ran out while the daemon was down
};

PinholeFileReadResult parse_pinholes(std::string_view text, std::int64_t wall_clock_now_seconds, Instant engine_now,
                                     std::string_view source_name = "pinholes");

}  // namespace gw
