// The lease file: the IGD's port mappings across a restart, one mapping a line so a
// human can read (and fix) it:
//
//   gatewayd-leases 1
//   tcp 3389 192.168.50.20:3389 owner=192.168.50.20 remote=* expires=1767225600 enabled=1 desc="Remote Assistance"
//   udp 5000 192.168.50.21:5000 owner=192.168.50.21 remote=* expires=1767225600 enabled=1 nonce=0123456789abcdef01234567 desc="PCP"
//   del udp 5000
//
// It is a journal (lease_journal.hpp): each grant appends its mapping's line, each
// removal a "del PROTOCOL PORT" line, and reading replays it, the last line about a
// (protocol, external port) winning. A file written whole (compacted) is simply a
// journal with no removals.
//
// `expires` is the wall-clock second (Unix time) the lease ends, or `never`: a lease
// keeps running while the daemon is down, as the client that asked for it expects.
// Engine time (Instant) is per boot, so it is converted at both ends. `nonce` (24 hex
// digits) is there only for mappings PCP granted: their nonce must survive a restart, or
// the client could no longer refresh or delete them (RFC 6887 §11.2); lines written
// before the field existed read as mappings without one. `desc` is last,
// quoted, with \" \\ and \xHH escapes. Lines starting with '#' and blank lines are
// ignored.
//
// The file is untrusted input: a bad line comes back as "leases:3: bad port '70000'"
// and every other line is still read. MappingPolicy::restore re-checks what is read.
//
// serialize/parse are pure; write_lease_file_atomically/read_lease_file do the I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.hpp"
#include "igd/port_mapping.hpp"

namespace gw {

inline constexpr std::string_view lease_file_header = "gatewayd-leases 1";
inline constexpr std::string_view removal_keyword = "del";

// One mapping's line, newline included (what a grant appends to the journal).
std::string serialize_lease_line(const PortMapping& mapping, std::int64_t wall_clock_now_seconds,
                                 Instant engine_now);
// "del tcp 3389\n": the journal line that ends a mapping.
std::string serialize_lease_removal(Protocol protocol, Port external);

// One line per mapping, after the header; mappings whose lease is over at
// `engine_now` are left out. The remaining lease is rounded up to whole seconds.
std::string serialize_leases(const std::vector<PortMapping>& mappings, std::int64_t wall_clock_now_seconds,
                             Instant engine_now);

struct LeaseFileReadResult {
    std::vector<PortMapping> mappings;  // expires in engine time, from engine_now
    std::vector<std::string> errors;    // "<source>:<line>: <what is wrong>", one per bad line
    std::size_t expired = 0;            // leases that ran out while the daemon was down
    std::size_t lines = 0;              // lines read, header included (the journal's length)
};

// Replays the journal: the mappings live after its last line, in (protocol, port)
// order. A file without the header, or with another version, yields one error and
// nothing else. A last line without its newline is a write cut short (kill -9 in the
// middle of an append): if it does not parse, its error says it was torn, and what the
// lines before it said stands.
LeaseFileReadResult parse_leases(std::string_view text, std::int64_t wall_clock_now_seconds, Instant engine_now,
                                 std::string_view source_name = "leases");

// Writes a temporary file in the same directory, fsyncs it, renames it over `path` and
// fsyncs the directory: after a crash the file is the old one or the new one, whole.
// On failure, what failed ("cannot rename ...: No space left on device").
Expected<void> write_lease_file_atomically(const std::string& path, std::string_view text);

// The whole file (of any of the state files), "" when it does not exist yet; an error
// only when it exists and cannot be read.
Expected<std::string> read_lease_file(const std::string& path);

}  // namespace gw
