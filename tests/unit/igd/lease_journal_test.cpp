// The lease file is a journal: a change appends one line (and is on disk before the IGD
// answers), reading replays the lines with the last word on each port winning, a crash
// mid-append costs only the torn line, and compaction rewrites it whole, atomically.
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "igd/lease_file.hpp"
#include "igd/lease_journal.hpp"
#include "igd/mapping_policy.hpp"

namespace gw {
namespace {

using namespace std::chrono_literals;
using Catch::Matchers::StartsWith;

constexpr std::int64_t wall0 = 1'767'225'000;
constexpr Instant engine0 = 5'000'000ms;
constexpr Ipv4Address host_a = Ipv4Address::from_octets(192, 168, 50, 20);
const std::string header = "gatewayd-leases 1\n";

PortMapping mapping_on(std::uint16_t port, std::string description = "game") {
    PortMapping m;
    m.protocol = Protocol::tcp;
    m.external = Port{port};
    m.internal = Endpoint{host_a, Port{port}};
    m.description = std::move(description);
    m.expires = engine0 + 600s;
    m.owner = host_a;
    return m;
}

std::string line_of(const PortMapping& m) { return serialize_lease_line(m, wall0, engine0); }

std::vector<std::uint16_t> ports_of(const LeaseFileReadResult& read) {
    std::vector<std::uint16_t> ports;
    for (const auto& m : read.mappings) ports.push_back(m.external.value);
    return ports;
}

struct ScratchDirectory {
    std::filesystem::path path;
    ScratchDirectory() {
        std::string name = (std::filesystem::temp_directory_path() / "gw_journal_test_XXXXXX").string();
        REQUIRE(mkdtemp(name.data()) != nullptr);
        path = name;
    }
    ~ScratchDirectory() { std::filesystem::remove_all(path); }
    std::string file(const char* name) const { return (path / name).string(); }
};

LeaseFileReadResult read_back(const std::string& path) {
    auto file = read_lease_file(path);
    REQUIRE(file.has_value());
    return parse_leases(*file, wall0, engine0);
}

}  // namespace

TEST_CASE("a removal line is 'del', the protocol and the port") {
    CHECK(serialize_lease_removal(Protocol::udp, Port{5000}) == "del udp 5000\n");
}

TEST_CASE("a replayed journal keeps what its last line about each port says") {
    auto renewed = mapping_on(4000, "renewed");
    std::string text = header + line_of(mapping_on(4000, "first")) + line_of(mapping_on(4001)) +
                       serialize_lease_removal(Protocol::tcp, Port{4001}) + line_of(renewed) +
                       line_of(mapping_on(4002)) + serialize_lease_removal(Protocol::udp, Port{4002});
    auto read = parse_leases(text, wall0, engine0);
    CHECK(read.errors.empty());
    CHECK(ports_of(read) == std::vector<std::uint16_t>{4000, 4002});  // the udp removal leaves tcp 4002
    CHECK(read.mappings[0].description == "renewed");
    CHECK(read.lines == 7);
}

TEST_CASE("a port removed and granted again is restored") {
    std::string text = header + line_of(mapping_on(4000)) + serialize_lease_removal(Protocol::tcp, Port{4000}) +
                       line_of(mapping_on(4000, "again"));
    auto read = parse_leases(text, wall0, engine0);
    REQUIRE(read.mappings.size() == 1);
    CHECK(read.mappings[0].description == "again");
}

TEST_CASE("a damaged removal line is reported with its line number and the rest is replayed") {
    std::string text = header + line_of(mapping_on(4000)) + "del tcp 99999\n" + "del icmp 4000\n" +
                       "del tcp 4000 extra\n" + line_of(mapping_on(4001));
    auto read = parse_leases(text, wall0, engine0, "leases");
    CHECK(read.errors == std::vector<std::string>{"leases:3: bad port '99999'", "leases:4: bad protocol 'icmp'",
                                                  "leases:5: unexpected text after removal: 'extra'"});
    CHECK(ports_of(read) == std::vector<std::uint16_t>{4000, 4001});
}

TEST_CASE("a removal torn by a crash mid-append leaves the mapping it did not finish removing") {
    std::string text = header + line_of(mapping_on(4000)) + "del tc";
    auto read = parse_leases(text, wall0, engine0, "leases");
    REQUIRE(read.errors.size() == 1);
    CHECK_THAT(read.errors[0], StartsWith("leases:3: torn line at end of file (no newline): "));
    CHECK(ports_of(read) == std::vector<std::uint16_t>{4000});
}

TEST_CASE("appended changes are in the file when append returns, and a restart replays them") {
    // `second` leaves the flush to a background thread: the lines are still in the file at
    // once (the page cache), which is all a killed daemon's successor reads.
    const LeaseSync sync = GENERATE(LeaseSync::change, LeaseSync::second);
    ScratchDirectory dir;
    auto path = dir.file("leases");
    LeaseJournal journal(path, sync);
    REQUIRE(journal.compact(header, 1) == std::nullopt);
    REQUIRE(journal.append(line_of(mapping_on(4000))) == std::nullopt);
    REQUIRE(journal.append(line_of(mapping_on(4001)) + line_of(mapping_on(4002))) == std::nullopt);
    REQUIRE(journal.append(serialize_lease_removal(Protocol::tcp, Port{4001})) == std::nullopt);
    CHECK(journal.lines() == 5);
    // Read while the journal is still open: what a restart after kill -9 sees.
    auto read = read_back(path);
    CHECK(read.errors.empty());
    CHECK(ports_of(read) == std::vector<std::uint16_t>{4000, 4002});
}

TEST_CASE("a journal torn by a crash is restored up to the torn line, and compaction drops the tear") {
    ScratchDirectory dir;
    auto path = dir.file("leases");
    {
        LeaseJournal journal(path);
        REQUIRE(journal.compact(header, 1) == std::nullopt);
        REQUIRE(journal.append(line_of(mapping_on(4000))) == std::nullopt);
    }
    {
        std::ofstream crash(path, std::ios::app);  // half of an append, then kill -9
        crash << line_of(mapping_on(4001)).substr(0, 20);
    }
    auto read = read_back(path);
    REQUIRE(read.errors.size() == 1);
    CHECK_THAT(read.errors[0], Catch::Matchers::Contains(":3: torn line at end of file"));
    CHECK(ports_of(read) == std::vector<std::uint16_t>{4000});

    // What the IGD does at start: compact what it restored, then append after it.
    LeaseJournal journal(path);
    REQUIRE(journal.compact(serialize_leases(read.mappings, wall0, engine0), 2) == std::nullopt);
    REQUIRE(journal.append(line_of(mapping_on(4005))) == std::nullopt);
    auto after = read_back(path);
    CHECK(after.errors.empty());
    CHECK(ports_of(after) == std::vector<std::uint16_t>{4000, 4005});
}

TEST_CASE("compaction is due once the journal holds more than twice the live entries") {
    ScratchDirectory dir;
    LeaseJournal journal(dir.file("leases"));
    REQUIRE(journal.compact(header, 1) == std::nullopt);
    const std::size_t live = 100;
    const std::size_t threshold = 2 * (live + 1) + LeaseJournal::min_lines_before_compaction;
    while (journal.lines() < threshold) REQUIRE(journal.append(line_of(mapping_on(4000))) == std::nullopt);
    CHECK_FALSE(journal.wants_compaction(live));
    REQUIRE(journal.append(line_of(mapping_on(4000))) == std::nullopt);
    CHECK(journal.wants_compaction(live));
    CHECK_FALSE(journal.wants_compaction(live * 10));
}

TEST_CASE("compaction rewrites the journal as one line per live mapping, atomically") {
    ScratchDirectory dir;
    auto path = dir.file("leases");
    LeaseJournal journal(path);
    REQUIRE(journal.compact(header, 1) == std::nullopt);
    for (std::uint16_t port = 4000; port < 4010; ++port) {
        REQUIRE(journal.append(line_of(mapping_on(port))) == std::nullopt);
        REQUIRE(journal.append(serialize_lease_removal(Protocol::tcp, Port{port})) == std::nullopt);
    }
    REQUIRE(journal.append(line_of(mapping_on(4100))) == std::nullopt);
    auto live = read_back(path).mappings;
    REQUIRE(live.size() == 1);

    auto snapshot = serialize_leases(live, wall0, engine0);
    REQUIRE(journal.compact(snapshot, 2) == std::nullopt);
    CHECK(read_lease_file(path).value() == snapshot);
    CHECK(journal.lines() == 2);
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path)) ++files;
    CHECK(files == 1);  // no temporary left behind
    // Appends go to the new file, not to the unlinked old one.
    REQUIRE(journal.append(serialize_lease_removal(Protocol::tcp, Port{4100})) == std::nullopt);
    CHECK(read_back(path).mappings.empty());
}

TEST_CASE("a journal that could not be compacted refuses appends until it is") {
    ScratchDirectory dir;
    LeaseJournal journal(dir.file("absent/leases"));
    CHECK(journal.append(line_of(mapping_on(4000))).has_value());
    auto error = journal.compact(header, 1);
    REQUIRE(error.has_value());
    CHECK_FALSE(journal.is_open());
    CHECK_THAT(*journal.append(line_of(mapping_on(4000))), StartsWith("cannot append to "));
}

TEST_CASE("the generic index follows grants, removals and expiry without going stale") {
    IgdConfig config;
    config.permissions = {UpnpPermission{true, {1024, 65535}, *Ipv4Network::parse("192.168.50.0/24"), {1024, 65535}}};
    MappingPolicy policy(config, {});
    for (std::uint16_t port : {5000, 5002, 5004}) {
        auto m = mapping_on(port);
        REQUIRE(std::holds_alternative<PortMapping>(policy.grant(m, host_a, port == 5002 ? 60 : 3600, engine0)));
    }
    CHECK(policy.at_index(1, engine0)->external == Port{5002});
    CHECK(policy.next_expiry() == Instant(engine0 + 60s));
    // 5002's lease is over, not yet collected: the index skips it.
    CHECK(policy.at_index(1, engine0 + 61s)->external == Port{5004});
    CHECK(policy.at_index(2, engine0 + 61s) == nullptr);
    REQUIRE(policy.remove(Protocol::tcp, Port{5000}, std::nullopt, host_a, engine0) == std::nullopt);
    CHECK(policy.at_index(0, engine0)->external == Port{5002});
    auto m = mapping_on(5001);
    REQUIRE(std::holds_alternative<PortMapping>(policy.grant(m, host_a, 3600, engine0)));
    CHECK(policy.at_index(0, engine0)->external == Port{5001});
    CHECK(policy.at_index(3, engine0) == nullptr);
    policy.expire(engine0 + 61s);
    CHECK(policy.at_index(1, engine0 + 61s)->external == Port{5004});
    CHECK(policy.next_expiry() == Instant(engine0 + 3600s));
}

}  // namespace gw

