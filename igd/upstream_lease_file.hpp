// The upstream halves across a restart (wan.upstream_mappings): next to the lease file,
// in "<upnp.lease_file>.upstream", one held half a line:
//
//   gatewayd-upstream 1
//   udp 5004 via=pcp external=198.51.100.7:5004 lifetime=7200 nonce=0123456789abcdef01234567
//   tcp 3389 via=upnp external=198.51.100.7:3389 lifetime=3600
//
// A file of its own rather than a field of the lease file's lines: the mapping service
// owns the lease file and journals a mapping when it grants it, before its upstream half
// exists; the upstream worker owns the halves and writes this file whole (a handful of
// lines, after each change) without ever taking the service's lock. A lease file from
// before issue 19 is untouched by it, and a missing or bad upstream file only costs
// the nonces: each live opening is claimed again anyway.
//
// At start the worker re-claims each half whose opening the lease file (or the config)
// brought back, with the same nonce (RFC 6887 §11.1: the same mapping) and port.
// serialize/parse are pure; write_lease_file_atomically/read_lease_file do the I/O.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "igd/upstream_mappings.hpp"

namespace gw {

inline constexpr std::string_view upstream_file_header = "gatewayd-upstream 1";

// "<lease_file>.upstream"
std::string upstream_file_path(const std::string& lease_file);

std::string serialize_upstream_halves(const std::vector<std::pair<CarriedKey, UpstreamGrant>>& halves);

struct UpstreamFileReadResult {
    std::vector<std::pair<CarriedKey, UpstreamGrant>> halves;
    std::vector<std::string> errors;  // "<source>:<line>: <what is wrong>"
};
UpstreamFileReadResult parse_upstream_halves(std::string_view text, std::string_view source_name = "upstream");

}  // namespace gw
