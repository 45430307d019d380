// The lease file: the IGD's port mappings across a restart, one mapping a line so a
// human can read (and fix) it:
//
//   gatewayd-leases 1
//   tcp 3389 192.168.50.20:3389 owner=192.168.50.20 remote=* expires=1767225600 enabled=1 desc="Remote Assistance"
//
// `expires` is the wall-clock second (Unix time) the lease ends, or `never`: a lease
// keeps running while the daemon is down, as the client that asked for it expects.
// Engine time (Instant) is per boot, so it is converted at both ends. `desc` is last,
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

#include "igd/port_mapping.hpp"

namespace gw {

inline constexpr std::string_view lease_file_header = "gatewayd-leases 1";

// One line per mapping, after the header; mappings whose lease is over at
// `engine_now` are left out. The remaining lease is rounded up to whole seconds.
std::string serialize_leases(const std::vector<PortMapping>& mappings, std::int64_t wall_clock_now_seconds,
                             Instant engine_now);

struct LeaseFileReadResult {
    std::vector<PortMapping> mappings;  // expires in engine time, from engine_now
    std::vector<std::string> errors;    // "<source>:<line>: <what is wrong>", one per bad line
    std::size_t expired = 0;            // leases that ran out while the daemon was down
};

// A file without the header, or with another version, yields one error and nothing
// else. A last line without its newline is a write cut short: if it does not parse,
// its error says it was torn.
LeaseFileReadResult parse_leases(std::string_view text, std::int64_t wall_clock_now_seconds, Instant engine_now,
                                 std::string_view source_name = "leases");

// Writes a temporary file in the same directory, fsyncs it, renames it over `path` and
// fsyncs the directory: after a crash the file is the old one or the new one, whole.
// nullopt on success, else what failed ("cannot rename ...: No space left on device").
std::optional<std::string> write_lease_file_atomically(const std::string& path, std::string_view text);

struct LeaseFileText {
    std::string text;                  // empty when the file does not exist yet
    std::optional<std::string> error;  // set only when the file exists and cannot be read
};
LeaseFileText read_lease_file(const std::string& path);

}  // namespace gw
