// libFuzzer harness for the lease-file reader (igd/lease_file.hpp): any text parses
// into mappings and per-line errors without a crash, and what was read round-trips
// through the writer's format unchanged. Kept to the reader's public API so it follows
// the lease file when its format changes.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "igd/lease_file.hpp"

namespace {

constexpr std::int64_t wall_clock_now = 1'767'225'000;  // 2025-12-31, Unix seconds
constexpr gw::Instant engine_now = std::chrono::seconds(5000);

[[noreturn]] void invariant_broken(const char* what, const std::string& detail = "") {
    std::fprintf(stderr, "lease_file invariant broken: %s %s\n", what, detail.c_str());
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    gw::LeaseFileReadResult read = gw::parse_leases(text, wall_clock_now, engine_now);
    for (const std::string& error : read.errors)
        if (!error.starts_with("leases:")) invariant_broken("error without its source", error);
    for (const gw::PortMapping& m : read.mappings) {
        if (m.protocol != gw::Protocol::tcp && m.protocol != gw::Protocol::udp) invariant_broken("protocol");
        if (m.expires && *m.expires <= engine_now) invariant_broken("an expired lease was restored");
    }
    // Read, written, read again: the same mappings.
    std::string written = gw::serialize_leases(read.mappings, wall_clock_now, engine_now);
    gw::LeaseFileReadResult again = gw::parse_leases(written, wall_clock_now, engine_now);
    if (!again.errors.empty()) invariant_broken("the writer's own output does not parse:", again.errors.front());
    if (again.mappings != read.mappings) invariant_broken("mappings changed in a round trip:", written);
    return 0;
}
