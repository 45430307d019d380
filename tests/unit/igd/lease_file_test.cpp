// The lease file carries the IGD's mappings across a restart: each lease keeps the
// time it had left (the clock runs while the daemon is down), a damaged line costs
// only that line, and the file is replaced whole or not at all.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "igd/lease_file.hpp"
#include "igd/mapping_policy.hpp"

namespace gw {
namespace {

using namespace std::chrono_literals;
using Catch::Matchers::StartsWith;

constexpr std::int64_t wall0 = 1'767'225'000;  // 2025-12-31T23:50:00Z
constexpr Instant engine0 = 5'000'000ms;
constexpr Ipv4Address host_a = Ipv4Address::from_octets(192, 168, 50, 20);

PortMapping remote_assistance() {
    PortMapping m;
    m.protocol = Protocol::tcp;
    m.external = Port{3389};
    m.internal = Endpoint{host_a, Port{3389}};
    m.description = "Remote Assistance";
    m.expires = engine0 + 600s;
    m.owner = host_a;
    return m;
}

const std::string remote_assistance_line =
    "tcp 3389 192.168.50.20:3389 owner=192.168.50.20 remote=* expires=1767225600 enabled=1 "
    "desc=\"Remote Assistance\"\n";
const std::string header = "gatewayd-leases 1\n";

// A directory under /tmp, removed with everything in it.
struct ScratchDirectory {
    std::filesystem::path path;
    ScratchDirectory() {
        std::string name = (std::filesystem::temp_directory_path() / "gw_lease_test_XXXXXX").string();
        REQUIRE(mkdtemp(name.data()) != nullptr);
        path = name;
    }
    ~ScratchDirectory() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("a mapping is written as one readable line with the wall-clock second its lease ends") {
    CHECK(serialize_leases({remote_assistance()}, wall0, engine0) == header + remote_assistance_line);
}

TEST_CASE("a restart restores the lease that was left, counting the time the daemon was down") {
    auto text = serialize_leases({remote_assistance()}, wall0, engine0);
    // 100 s later by the wall clock, on a new boot whose engine clock is at 42 s.
    auto read = parse_leases(text, wall0 + 100, 42s);
    CHECK(read.errors.empty());
    REQUIRE(read.mappings.size() == 1);
    CHECK(read.mappings[0].expires == Instant(42s + 500s));
}

TEST_CASE("every field survives a round trip: remote host, disabled, permanent") {
    auto m = remote_assistance();
    m.protocol = Protocol::udp;
    m.remote_host = Ipv4Address::from_octets(198, 51, 100, 7);
    m.enabled = false;
    m.expires = std::nullopt;
    m.internal.port = Port{13389};
    auto text = serialize_leases({m}, wall0, engine0);
    CHECK_THAT(text, Catch::Matchers::Contains("remote=198.51.100.7 expires=never enabled=0"));
    auto read = parse_leases(text, wall0 + 5000, engine0);
    REQUIRE(read.mappings.size() == 1);
    CHECK(read.mappings[0] == m);
}

TEST_CASE("a lease that ran out while the daemon was down is counted, not restored, and is no error") {
    auto read = parse_leases(header + remote_assistance_line, 1767225600, engine0);
    CHECK(read.mappings.empty());
    CHECK(read.errors.empty());
    CHECK(read.expired == 1);
}

TEST_CASE("a lease already over at save time is not written") {
    CHECK(serialize_leases({remote_assistance()}, wall0, engine0 + 600s) == header);
}

TEST_CASE("a corrupt middle line is reported with its line number and every other mapping is restored") {
    std::string text = header + remote_assistance_line +
                       "tcp 70000 192.168.50.20:3389 owner=192.168.50.20 remote=* expires=never enabled=1 desc=\"\"\n" +
                       "udp 5000 192.168.50.21:5000 owner=192.168.50.21 remote=* expires=never enabled=1 desc=\"x\"\n";
    auto read = parse_leases(text, wall0, engine0);
    CHECK(read.errors == std::vector<std::string>{"leases:3: bad port '70000'"});
    REQUIRE(read.mappings.size() == 2);
    CHECK(read.mappings[0].external == Port{3389});
    CHECK(read.mappings[1].external == Port{5000});
}

TEST_CASE("a torn last line is reported as torn and the mappings before it are restored") {
    std::string text = header + remote_assistance_line + "udp 5000 192.168.50.21:5000 owner=192.168.50.21 rem";
    auto read = parse_leases(text, wall0, engine0, "/var/lib/gatewayd/leases");
    REQUIRE(read.errors.size() == 1);
    CHECK_THAT(read.errors[0], StartsWith("/var/lib/gatewayd/leases:3: torn line at end of file (no newline): "));
    CHECK(read.mappings.size() == 1);
}

TEST_CASE("a complete last line without its newline (a hand edit) is still restored") {
    auto line = remote_assistance_line.substr(0, remote_assistance_line.size() - 1);
    auto read = parse_leases(header + line, wall0, engine0);
    CHECK(read.errors.empty());
    CHECK(read.mappings.size() == 1);
}

TEST_CASE("each kind of bad line says what is wrong with it") {
    const std::string rest = " owner=192.168.50.20 remote=* expires=never enabled=1 desc=\"d\"";
    struct Case {
        std::string line;
        std::string error;
    };
    std::vector<Case> table{
        {"icmp 3389 192.168.50.20:3389" + rest, "bad protocol 'icmp'"},
        {"tcp 0 192.168.50.20:3389" + rest, "bad port '0'"},
        {"tcp 3389 192.168.50.300:3389" + rest, "bad address '192.168.50.300'"},
        {"tcp 3389 192.168.50.20" + rest, "bad internal endpoint '192.168.50.20'"},
        {"tcp 3389 192.168.50.20:3389 color=red" + rest, "unknown field 'color'"},
        {"tcp 3389 192.168.50.20:3389 owner=192.168.50.20" + rest, "duplicate field 'owner'"},
        {"tcp 3389 192.168.50.20:3389 remote=* expires=never enabled=1 desc=\"d\"", "missing field 'owner'"},
        {"tcp 3389 192.168.50.20:3389 owner=192.168.50.20 remote=* expires=never enabled=1", "missing field 'desc'"},
        {"tcp 3389 192.168.50.20:3389 owner=x remote=* expires=never enabled=1 desc=\"\"", "bad owner address 'x'"},
        {"tcp 3389 192.168.50.20:3389 owner=192.168.50.20 remote=* expires=-5 enabled=1 desc=\"\"",
         "bad expires '-5'"},
        {"tcp 3389 192.168.50.20:3389 owner=192.168.50.20 remote=* expires=never enabled=yes desc=\"\"",
         "bad enabled 'yes' (0 or 1)"},
        {"tcp 3389 192.168.50.20:3389" + rest.substr(0, rest.size() - 1), "unterminated description"},
        {"tcp 3389 192.168.50.20:3389" + rest + " x", "unexpected text after description: ' x'"},
        {"tcp 3389 192.168.50.20:3389 owner=192.168.50.20 remote=* expires=never enabled=1 desc=\"a\\qb\"",
         "bad escape '\\q' in description"},
    };
    for (const auto& c : table) {
        INFO(c.line);
        auto read = parse_leases(header + c.line + "\n", wall0, engine0);
        CHECK(read.errors == std::vector<std::string>{"leases:2: " + c.error});
        CHECK(read.mappings.empty());
    }
}

TEST_CASE("descriptions with quotes, backslashes and control bytes are escaped on one line and read back") {
    auto m = remote_assistance();
    m.description = "say \"hi\" \\o/ \x01\n caf\xc3\xa9";
    auto text = serialize_leases({m}, wall0, engine0);
    CHECK_THAT(text, Catch::Matchers::EndsWith("desc=\"say \\\"hi\\\" \\\\o/ \\x01\\x0a caf\xc3\xa9\"\n"));
    auto read = parse_leases(text, wall0, engine0);
    REQUIRE(read.mappings.size() == 1);
    CHECK(read.mappings[0].description == m.description);
}

TEST_CASE("a file of another version or format is refused as a whole, with one error") {
    auto other_version = parse_leases("gatewayd-leases 2\n" + remote_assistance_line, wall0, engine0);
    CHECK(other_version.errors == std::vector<std::string>{"leases:1: unsupported lease file version '2'"});
    CHECK(other_version.mappings.empty());
    auto miniupnpd = parse_leases("TCP:3389:192.168.50.20:3389:1767225600:RDP\n", wall0, engine0);
    CHECK(miniupnpd.errors ==
          std::vector<std::string>{"leases:1: not a lease file: expected 'gatewayd-leases 1' first"});
}

TEST_CASE("comments and blank lines are ignored and keep line numbers true") {
    auto read = parse_leases("# saved by gatewayd\n\n" + header + "\n# x\ntcp 1 2 3\n", wall0, engine0);
    CHECK(read.errors == std::vector<std::string>{"leases:6: bad internal endpoint '2'"});
}

TEST_CASE("a missing lease file reads as empty, not as an error") {
    ScratchDirectory dir;
    auto read = read_lease_file((dir.path / "leases").string());
    REQUIRE(read.has_value());
    CHECK(read->empty());
    CHECK(parse_leases(*read, wall0, engine0).errors.empty());
}

TEST_CASE("an atomic write replaces the file whole and leaves no temporary file behind") {
    ScratchDirectory dir;
    auto path = (dir.path / "leases").string();
    REQUIRE(write_lease_file_atomically(path, "old\n").has_value());
    REQUIRE(write_lease_file_atomically(path, header + remote_assistance_line).has_value());
    CHECK(read_lease_file(path).value() == header + remote_assistance_line);
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path)) ++files;
    CHECK(files == 1);
}

TEST_CASE("an atomic write into a missing directory reports what failed") {
    ScratchDirectory dir;
    auto written = write_lease_file_atomically((dir.path / "absent" / "leases").string(), header);
    REQUIRE_FALSE(written.has_value());
    CHECK_THAT(written.error().message, StartsWith("cannot create "));
    CHECK_THAT(written.error().message, Catch::Matchers::EndsWith("No such file or directory"));
}

TEST_CASE("mappings granted by the policy survive a restart through the lease file") {
    IgdConfig config;
    config.permissions = {UpnpPermission{true, {1024, 65535}, *Ipv4Network::parse("192.168.50.0/24"), {1024, 65535}}};
    MappingPolicy before(config, {});
    auto request = remote_assistance();
    REQUIRE(std::holds_alternative<PortMapping>(before.grant(request, host_a, 3600, engine0)));
    request.external = Port{3390};
    REQUIRE(std::holds_alternative<PortMapping>(before.grant(request, host_a, 0, engine0)));

    // Saved 1000 s after the grants; restored 200 s later on a fresh boot.
    auto text = serialize_leases(before.all(), wall0, engine0 + 1000s);
    auto read = parse_leases(text, wall0 + 200, 7s);
    REQUIRE(read.errors.empty());
    MappingPolicy after(config, {});
    auto report = after.restore(read.mappings, 7s);
    CHECK(report.restored == 2);
    CHECK(after.find(Protocol::tcp, Port{3389}, std::nullopt, 7s)->expires == Instant(7s + 2400s));
    // Lease 0 was capped to max_lease (604800 s) at grant time; the rest of it is kept.
    CHECK(after.find(Protocol::tcp, Port{3390}, std::nullopt, 7s)->expires == Instant(7s + 604800s - 1200s));
}

}  // namespace gw
