// The pinhole journal across a restart: what a grant, a renewal and a deletion append
// reads back as the same pinholes (UniqueIDs, owners, leases measured in wall-clock
// time), and a damaged file costs only its bad lines.
#include <catch2/catch.hpp>

#include <chrono>

#include "igd/pinhole_file.hpp"

namespace gw {
namespace {

using namespace std::chrono_literals;

const Instant before_restart{5'000'000};
const Instant after_restart{42'000};  // engine time starts again at boot
constexpr std::int64_t wall_at_save = 1'767'225'600;

PinholeLease lease(std::uint16_t id, const char* client, std::chrono::seconds left) {
    PinholeLease l;
    l.pinhole.id = id;
    l.pinhole.internal_client = *Ipv6Address::parse(client);
    l.pinhole.internal_port = 5000;
    l.pinhole.protocol = ip_protocol_udp;
    l.owner = l.pinhole.internal_client;
    l.expires = before_restart + left;
    return l;
}

TEST_CASE("pinholes written whole read back the same after a restart, leases counted in wall-clock time") {
    PinholeLease any_remote = lease(7, "2001:db8:1::20", 3600s);
    PinholeLease narrow = lease(9, "2001:db8:1::30", 60s);
    narrow.pinhole.remote_host = Ipv6Address::parse("2001:db8:ffff::9");
    narrow.pinhole.remote_port = 443;
    narrow.owner = v4_mapped(*Ipv4Address::parse("192.168.1.5"));
    std::string text = serialize_pinholes({any_remote, narrow}, wall_at_save, before_restart);
    CHECK(text.starts_with(std::string(pinhole_file_header) + "\n"));

    // Ten seconds of downtime.
    auto read = parse_pinholes(text, wall_at_save + 10, after_restart);
    CHECK(read.errors.empty());
    REQUIRE(read.pinholes.size() == 2);
    CHECK(read.pinholes[0].pinhole == any_remote.pinhole);
    CHECK(read.pinholes[0].owner == any_remote.owner);
    CHECK(read.pinholes[0].expires == after_restart + 3590s);
    CHECK(read.pinholes[1].pinhole == narrow.pinhole);
    CHECK(read.pinholes[1].owner == narrow.owner);
    CHECK(read.pinholes[1].expires == after_restart + 50s);
}

TEST_CASE("the journal replays grants, renewals and deletions; the last line about a UniqueID wins") {
    PinholeLease first = lease(1, "2001:db8:1::20", 60s);
    PinholeLease second = lease(2, "2001:db8:1::20", 60s);
    PinholeLease renewed = first;
    renewed.expires = before_restart + 7200s;
    std::string text = serialize_pinholes({}, wall_at_save, before_restart) +
                       serialize_pinhole_line(first, wall_at_save, before_restart) +
                       serialize_pinhole_line(second, wall_at_save, before_restart) +
                       serialize_pinhole_line(renewed, wall_at_save, before_restart) + serialize_pinhole_removal(2);
    auto read = parse_pinholes(text, wall_at_save, after_restart);
    CHECK(read.errors.empty());
    REQUIRE(read.pinholes.size() == 1);
    CHECK(read.pinholes[0].pinhole.id == 1);
    CHECK(read.pinholes[0].expires == after_restart + 7200s);
}

TEST_CASE("leases that ran out while the daemon was down are counted, not restored") {
    std::string text = serialize_pinholes({lease(3, "2001:db8:1::20", 30s)}, wall_at_save, before_restart);
    auto read = parse_pinholes(text, wall_at_save + 31, after_restart);
    CHECK(read.pinholes.empty());
    CHECK(read.expired == 1);
}

TEST_CASE("a bad line is reported with its line number and the others are still read; a torn tail says so") {
    std::string good = serialize_pinhole_line(lease(4, "2001:db8:1::20", 60s), wall_at_save, before_restart);
    std::string text = std::string(pinhole_file_header) + "\n" +
                       "5 proto=6 remote=* rport=0 client=not-an-address iport=1 owner=::1 expires=1\n" +
                       "6 proto=6 remote=*\n" + "0 proto=6\n" + good + "del x\n" + "7 proto=6 rem";
    auto read = parse_pinholes(text, wall_at_save, after_restart, "pinholes");
    REQUIRE(read.pinholes.size() == 1);
    CHECK(read.pinholes[0].pinhole.id == 4);
    REQUIRE(read.errors.size() == 5);
    CHECK(read.errors[0] == "pinholes:2: bad client 'not-an-address'");
    CHECK(read.errors[1] == "pinholes:3: missing field 'client'");
    CHECK(read.errors[2] == "pinholes:4: bad UniqueID '0'");
    CHECK(read.errors[3] == "pinholes:6: bad removal 'del x'");
    CHECK(read.errors[4].starts_with("pinholes:7: torn line at end of file (no newline): "));
}

TEST_CASE("a file without the pinhole header yields one error and nothing else") {
    auto read = parse_pinholes("gatewayd-leases 1\n1 proto=6\n", wall_at_save, after_restart, "p");
    CHECK(read.pinholes.empty());
    REQUIRE(read.errors.size() == 1);
    CHECK(read.errors[0] == "p:1: not a pinhole file: expected 'gatewayd-pinholes 1' first");
}

TEST_CASE("the pinhole file sits beside the lease file") {
    CHECK(pinhole_file_path("/var/lib/gatewayd/leases") == "/var/lib/gatewayd/leases.pinholes");
}

}  // namespace
TEST_CASE("a pinhole file of a later version is refused as unsupported, not as another format") {
    auto read = parse_pinholes("gatewayd-pinholes 2\n", wall_at_save, after_restart, "p");
    CHECK(read.pinholes.empty());
    CHECK(read.errors == std::vector<std::string>{"p:1: unsupported pinhole file version '2'"});
}

}  // namespace gw
