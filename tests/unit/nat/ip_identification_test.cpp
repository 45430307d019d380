// The gateway's own numbering of the datagrams it sends from the WAN address (RFC 7857 §10).
#include <catch2/catch.hpp>

#include <set>

#include "nat/ip_identification.hpp"
#include "packet_builder.hpp"

namespace gw::test {

TEST_CASE("datagrams to one destination get distinct identifications until the counter wraps") {
    IpIdentification ids(PortSelectionKey{});
    std::set<std::uint16_t> seen;
    for (int i = 0; i < 65536; ++i) seen.insert(ids.next(server, ip_udp));
    CHECK(seen.size() == 65536);
}

TEST_CASE("the identifications follow no sequence an outsider knows: they depend on the key") {
    PortSelectionKey one{}, other{};
    other[0] = 1;
    IpIdentification a(one), b(other);
    int equal = 0;
    for (int i = 0; i < 64; ++i) equal += a.next(server, ip_udp) == b.next(server, ip_udp);
    CHECK(equal < 4);
}

TEST_CASE("two destinations do not share one visible sequence") {
    // Each destination's numbers start at its own keyed offset, so what one remote sees
    // tells it nothing of how many datagrams went to another.
    IpIdentification ids(PortSelectionKey{});
    std::uint16_t first = ids.next(server, ip_udp), to_other = ids.next(other_server, ip_udp);
    std::uint16_t second = ids.next(server, ip_udp);
    CHECK(second == std::uint16_t(first + 1));
    CHECK(to_other != std::uint16_t(first + 1));
}

TEST_CASE("a rewritten identification leaves the IP header checksum right") {
    Packet packet = may_fragment(with_identification(udp(at(host_a, 5000), at(server, 53), payload_of_size(9)), 0x4242));
    ParseResult parsed = parse_ipv4(packet);
    REQUIRE(parsed.ok());
    for (std::uint16_t id : {0x0000, 0xffff, 0x1234}) {
        rewrite_identification(parsed.view, id);
        CHECK(get16(packet, 4) == id);
        CHECK(checksum_errors(packet) == "");
    }
}

TEST_CASE("only a datagram with DF set that is no fragment is atomic (RFC 6864 §4)") {
    Packet whole = udp(at(host_a, 5000), at(server, 53), payload_of_size(40));
    CHECK(is_atomic(*parse_ipv4(whole).view.ip));
    Packet may = may_fragment(whole);
    CHECK_FALSE(is_atomic(*parse_ipv4(may).view.ip));
    Packet fragment = fragments_of(whole, 24).front();
    CHECK_FALSE(is_atomic(*parse_ipv4(fragment).view.ip));
}

}  // namespace gw::test
