// The IGD's mapping policy, the one piece every front end asks: who may map which
// port, for how long, and what the UPnP error is when not (WANIPConnection v1/v2).
#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

#include "firewall/address_checks.hpp"
#include "igd/mapping_policy.hpp"

namespace gw {
namespace {

using namespace std::chrono_literals;

constexpr Instant t0 = 1'000'000ms;
constexpr Ipv4Address lan(std::uint8_t host) { return Ipv4Address::from_octets(192, 168, 50, host); }
constexpr Ipv4Address host_a = lan(20);
constexpr Ipv4Address host_b = lan(21);

UpnpPermission rule(bool allow, PortRange external, const char* network, PortRange internal) {
    return UpnpPermission{allow, external, *Ipv4Network::parse(network), internal};
}

// miniupnpd's shipped default: ports 1024-65535 for the whole LAN.
IgdConfig igd_config() {
    IgdConfig config;
    config.permissions = {rule(true, {1024, 65535}, "192.168.50.0/24", {1024, 65535})};
    return config;
}

PortMapping request(std::uint16_t external, Ipv4Address internal, std::uint16_t internal_port,
                    Protocol protocol = Protocol::tcp) {
    PortMapping m;
    m.protocol = protocol;
    m.external = Port{external};
    m.internal = Endpoint{internal, Port{internal_port}};
    m.description = "test";
    return m;
}

PortMapping granted(const std::variant<PortMapping, MappingRefusal>& result) {
    REQUIRE(std::holds_alternative<PortMapping>(result));
    return std::get<PortMapping>(result);
}

MappingRefusal refused(const std::variant<PortMapping, MappingRefusal>& result) {
    REQUIRE(std::holds_alternative<MappingRefusal>(result));
    return std::get<MappingRefusal>(result);
}

// host_a maps tcp `port` to itself, same port, for `lease` seconds.
std::variant<PortMapping, MappingRefusal> map_own(MappingPolicy& policy, std::uint16_t port, Ipv4Address host = host_a,
                                                  std::uint32_t lease = 3600, Instant now = t0) {
    return policy.grant(request(port, host, port), host, lease, now);
}

}  // namespace

TEST_CASE("every refusal carries the UPnP error code and name WANIPConnection defines") {
    using enum MappingRefusal;
    std::vector<std::pair<MappingRefusal, int>> spec{
        {invalid_args, 402}, {action_not_authorized, 606}, {specified_array_index_invalid, 713},
        {no_such_entry, 714}, {wildcard_not_permitted_in_ext_port, 716}, {conflict, 718},
        {no_port_maps_available, 728}, {conflict_with_other_mechanisms, 729}, {port_mapping_not_found, 730},
        {wildcard_not_permitted_in_int_port, 732}, {inconsistent_parameters, 733}, {upstream_nat, 501}};
    for (auto [refusal, code] : spec) CHECK(upnp_error_code(refusal) == code);
    CHECK(upnp_error_description(conflict) == "ConflictInMappingEntry");
}

TEST_CASE("with another NAT upstream and refusal configured, new grants are refused and held mappings stay") {
    MappingPolicy policy(igd_config(), {});
    granted(map_own(policy, 3389, host_a));
    policy.set_refusing_upstream_nat(true);
    CHECK(refused(map_own(policy, 5000, host_a)) == MappingRefusal::upstream_nat);
    CHECK(refused(policy.grant_any(request(0, host_a, 6000), host_a, 3600, t0)) == MappingRefusal::upstream_nat);
    CHECK(upnp_error_code(MappingRefusal::upstream_nat) == 501);
    // A request that is invalid anyway keeps its own error.
    CHECK(refused(policy.grant(request(0, host_a, 5000), host_a, 3600, t0)) ==
          MappingRefusal::wildcard_not_permitted_in_ext_port);
    CHECK(policy.find(Protocol::tcp, Port{3389}, std::nullopt, t0) != nullptr);
    policy.set_refusing_upstream_nat(false);
    granted(map_own(policy, 5000, host_a));
}

TEST_CASE("a port mapped by one client is refused to another client as ConflictInMappingEntry (718)") {
    MappingPolicy policy(igd_config(), {});
    const auto& first = granted(map_own(policy, 3389, host_a));
    CHECK(first.owner == host_a);
    CHECK(refused(map_own(policy, 3389, host_b)) == MappingRefusal::conflict);
    CHECK(policy.find(Protocol::tcp, Port{3389}, std::nullopt, t0)->owner == host_a);
    // The other protocol's port 3389 is a different mapping.
    granted(policy.grant(request(3389, host_b, 3389, Protocol::udp), host_b, 3600, t0));
}

TEST_CASE("the same client asking again for its mapping refreshes the lease and may change the internal port") {
    MappingPolicy policy(igd_config(), {});
    granted(map_own(policy, 3389, host_a, 600, t0));
    auto again = request(3389, host_a, 3390);
    again.description = "renewed";
    const auto& renewed = granted(policy.grant(again, host_a, 600, t0 + 500s));
    CHECK(renewed.expires == t0 + 1100s);
    CHECK(policy.size() == 1);
    const auto* held = policy.find(Protocol::tcp, Port{3389}, std::nullopt, t0 + 1099s);
    REQUIRE(held != nullptr);
    CHECK(held->internal.port == Port{3390});
    CHECK(held->description == "renewed");
}

TEST_CASE("the same client asking for its port with another remote host is a conflict, not a second mapping") {
    MappingPolicy policy(igd_config(), {});
    granted(map_own(policy, 3389));
    auto narrowed = request(3389, host_a, 3389);
    narrowed.remote_host = Ipv4Address::from_octets(198, 51, 100, 7);
    CHECK(refused(policy.grant(narrowed, host_a, 3600, t0)) == MappingRefusal::conflict);
    CHECK(policy.find(Protocol::tcp, Port{3389}, narrowed.remote_host, t0) == nullptr);
    CHECK(policy.find(Protocol::tcp, Port{3389}, std::nullopt, t0) != nullptr);
}

TEST_CASE("in secure mode a client may only map ports to its own address (606)") {
    MappingPolicy policy(igd_config(), {});
    CHECK(refused(policy.grant(request(3389, host_b, 3389), host_a, 3600, t0)) ==
          MappingRefusal::action_not_authorized);
    CHECK(policy.size() == 0);
}

TEST_CASE("without secure mode a client may map a port to another LAN host; anyone may delete it") {
    auto config = igd_config();
    config.secure_mode = false;
    MappingPolicy policy(config, {});
    const auto& m = granted(policy.grant(request(3389, host_b, 3389), host_a, 3600, t0));
    CHECK(m.owner == host_a);
    CHECK(m.internal.address == host_b);
    // host_b itself did not ask for it: its own request for the port conflicts...
    CHECK(refused(map_own(policy, 3389, host_b)) == MappingRefusal::conflict);
    // ...but outside secure mode any LAN client may delete it.
    CHECK(policy.remove(Protocol::tcp, Port{3389}, std::nullopt, host_b, t0) == std::nullopt);
}

TEST_CASE("permission rules are evaluated in order and the first match decides; no match denies") {
    auto config = igd_config();
    config.secure_mode = false;
    config.permissions = {
        rule(false, {0, 65535}, "192.168.50.66/32", {0, 65535}),           // one host never
        rule(true, {5000, 5999}, "192.168.50.0/24", {5000, 5999}),         // games, same band
        rule(false, {5500, 5500}, "192.168.50.0/24", {5500, 5500}),        // shadowed by the rule above
        rule(true, {1024, 65535}, "192.168.50.128/25", {1024, 65535}),     // upper half of the LAN
    };
    MappingPolicy policy(config, {});
    struct Case {
        const char* description;
        PortMapping request;
        bool allowed;
    };
    std::vector<Case> table{
        {"a denied host is denied before any allow", request(5000, lan(66), 5000), false},
        {"inside the allowed band", request(5001, lan(20), 5001), true},
        {"a later deny is shadowed by an earlier allow", request(5500, lan(20), 5500), true},
        {"internal port outside the band", request(5002, lan(20), 80), false},
        {"external port outside every range", request(80, lan(200), 8080), false},
        {"the /25 rule admits a host in it", request(8080, lan(200), 8080), true},
        {"no rule matches a host outside the LAN", request(9000, Ipv4Address::from_octets(10, 0, 0, 5), 9000), false},
    };
    for (const auto& c : table) {
        INFO(c.description);
        auto result = policy.grant(c.request, host_a, 3600, t0);
        if (c.allowed) CHECK(std::holds_alternative<PortMapping>(result));
        else CHECK(refused(result) == MappingRefusal::action_not_authorized);
    }
}

TEST_CASE("an empty permission list denies every mapping") {
    IgdConfig config;
    MappingPolicy policy(config, {});
    CHECK(refused(map_own(policy, 3389)) == MappingRefusal::action_not_authorized);
}

TEST_CASE("a client at its per-client limit is refused with NoPortMapsAvailable (728) while others still map") {
    auto config = igd_config();
    config.per_client_limit = 2;
    MappingPolicy policy(config, {});
    granted(map_own(policy, 4000));
    granted(map_own(policy, 4001));
    CHECK(refused(map_own(policy, 4002)) == MappingRefusal::no_port_maps_available);
    granted(map_own(policy, 4001));  // refreshing a mapping it holds takes no new slot
    granted(map_own(policy, 4002, host_b));
}

TEST_CASE("the global limit refuses a new mapping once max_mappings are held (728); a lease over frees its port") {
    auto config = igd_config();
    config.max_mappings = 3;
    MappingPolicy policy(config, {});
    for (std::uint8_t host = 1; host <= 3; ++host) granted(map_own(policy, 4000 + host, lan(host)));
    CHECK(refused(map_own(policy, 4100, lan(9))) == MappingRefusal::no_port_maps_available);
    // A lease that is over frees its slot and its port even before expire() collects it.
    auto taken_over = request(4001, lan(9), 4001);
    CHECK(granted(policy.grant(taken_over, lan(9), 3600, t0 + 3600s)).owner == lan(9));
}

TEST_CASE("a port held by a static forward is refused as ConflictWithOtherMechanisms (729), for its protocol only") {
    MappingPolicy policy(igd_config(), {{Protocol::tcp, PortRange{8000, 8010}}});
    CHECK(refused(map_own(policy, 8005)) == MappingRefusal::conflict_with_other_mechanisms);
    granted(policy.grant(request(8005, host_a, 8005, Protocol::udp), host_a, 3600, t0));
    granted(map_own(policy, 8011));
}

TEST_CASE("a lease above max_lease is capped to max_lease and the granted expiry says so") {
    auto config = igd_config();
    config.max_lease_seconds = 3600;
    MappingPolicy policy(config, {});
    CHECK(granted(map_own(policy, 4000, host_a, 86400)).expires == t0 + 3600s);
    CHECK(granted(map_own(policy, 4001, host_a, 60)).expires == t0 + 60s);
}

TEST_CASE("in IGD v1 a lease of 0 is capped to max_lease when one is configured, and permanent only without") {
    auto config = igd_config();
    config.igd_version = 1;
    config.max_lease_seconds = 7200;
    MappingPolicy capped(config, {});
    CHECK(granted(map_own(capped, 4000, host_a, 0)).expires == t0 + 7200s);

    config.max_lease_seconds = 0;
    MappingPolicy uncapped(config, {});
    CHECK(granted(map_own(uncapped, 4000, host_a, 0)).expires == std::nullopt);
    CHECK(uncapped.next_expiry() == std::nullopt);
}

TEST_CASE("in IGD v2 a lease of 0 is the spec's 604800-second maximum, never permanent") {
    auto config = igd_config();
    config.igd_version = 2;
    config.max_lease_seconds = 0;
    MappingPolicy policy(config, {});
    CHECK(granted(map_own(policy, 4000, host_a, 0)).expires == t0 + 604800s);
    CHECK(granted(map_own(policy, 4001, host_a, 900000)).expires == t0 + 604800s);
}

TEST_CASE("AddPortMapping refuses external port 0 (716) and internal port 0 (732 in v2, 402 in v1)") {
    auto config = igd_config();
    config.igd_version = 2;
    MappingPolicy v2(config, {});
    CHECK(refused(v2.grant(request(0, host_a, 3389), host_a, 3600, t0)) ==
          MappingRefusal::wildcard_not_permitted_in_ext_port);
    CHECK(refused(v2.grant(request(3389, host_a, 0), host_a, 3600, t0)) ==
          MappingRefusal::wildcard_not_permitted_in_int_port);
    config.igd_version = 1;
    MappingPolicy v1(config, {});
    CHECK(refused(v1.grant(request(3389, host_a, 0), host_a, 3600, t0)) == MappingRefusal::invalid_args);
    CHECK(refused(v1.grant(request(3389, host_a, 3389, Protocol::icmp), host_a, 3600, t0)) ==
          MappingRefusal::invalid_args);
}

TEST_CASE("a mapping is alive one millisecond before its lease ends and gone exactly at expiry") {
    MappingPolicy policy(igd_config(), {});
    granted(map_own(policy, 4000, host_a, 60));
    const Instant expires = t0 + 60s;
    CHECK(policy.find(Protocol::tcp, Port{4000}, std::nullopt, expires - 1ms) != nullptr);
    CHECK(policy.find(Protocol::tcp, Port{4000}, std::nullopt, expires) == nullptr);
    CHECK(policy.at_index(0, expires) == nullptr);
    CHECK(policy.expire(expires - 1ms).empty());
    auto removed = policy.expire(expires);
    REQUIRE(removed.size() == 1);
    CHECK(removed[0].external == Port{4000});
    CHECK(policy.size() == 0);
}

TEST_CASE("expire removes and returns exactly the mappings whose lease is over, and next_expiry follows") {
    MappingPolicy policy(igd_config(), {});
    granted(map_own(policy, 4000, host_a, 30));
    granted(map_own(policy, 4001, host_a, 10));
    granted(map_own(policy, 4002, host_a, 20));
    CHECK(policy.next_expiry() == t0 + 10s);
    auto removed = policy.expire(t0 + 20s);
    REQUIRE(removed.size() == 2);
    CHECK(removed[0].external == Port{4001});
    CHECK(removed[1].external == Port{4002});
    CHECK(policy.next_expiry() == t0 + 30s);
    policy.expire(t0 + 30s);
    CHECK(policy.next_expiry() == std::nullopt);
}

TEST_CASE("GetGenericPortMappingEntry indexes live mappings by protocol (tcp first) then port") {
    MappingPolicy policy(igd_config(), {});
    granted(policy.grant(request(2000, host_a, 2000, Protocol::udp), host_a, 3600, t0));
    granted(map_own(policy, 9000));
    granted(map_own(policy, 3000, host_a, 10));
    granted(map_own(policy, 5000));
    std::vector<std::pair<Protocol, std::uint16_t>> order;
    for (std::size_t i = 0; const auto* m = policy.at_index(i, t0 + 10s); ++i)
        order.emplace_back(m->protocol, m->external.value);
    CHECK(order == std::vector<std::pair<Protocol, std::uint16_t>>{
                       {Protocol::tcp, 5000}, {Protocol::tcp, 9000}, {Protocol::udp, 2000}});
}

TEST_CASE("GetListOfPortMappings returns one protocol's live mappings in the range, in port order, at most max") {
    MappingPolicy policy(igd_config(), {});
    for (std::uint16_t port : {6003, 6001, 6002, 7000}) granted(map_own(policy, port));
    granted(policy.grant(request(6000, host_a, 6000, Protocol::udp), host_a, 3600, t0));
    auto found = policy.list(Protocol::tcp, PortRange{6000, 6999}, 2, t0);
    REQUIRE(found.size() == 2);
    CHECK(found[0].external == Port{6001});
    CHECK(found[1].external == Port{6002});
    CHECK(policy.list(Protocol::tcp, PortRange{6000, 6999}, 0, t0).size() == 3);
    CHECK(policy.list(Protocol::udp, PortRange{1024, 65535}, 0, t0).size() == 1);
}

TEST_CASE("AddAnyPortMapping keeps the requested port when free and otherwise picks the next free permitted one") {
    MappingPolicy policy(igd_config(), {{Protocol::tcp, PortRange{4001, 4001}}});
    CHECK(granted(policy.grant_any(request(4000, host_b, 4000), host_b, 3600, t0)).external == Port{4000});
    // 4000 is host_b's, 4001 a static forward: host_a gets 4002.
    CHECK(granted(policy.grant_any(request(4000, host_a, 4000), host_a, 3600, t0)).external == Port{4002});
    // External port 0 means "any": the internal port is tried first.
    CHECK(granted(policy.grant_any(request(0, host_a, 5555), host_a, 3600, t0)).external == Port{5555});
    // Port 80 is not permitted: the search starts at 1024.
    CHECK(granted(policy.grant_any(request(80, host_a, 8080), host_a, 3600, t0)).external == Port{1024});
    // Ports at the top wrap around to the bottom of 1024-65535, and the search passes
    // over host_a's own 1024 instead of overwriting it.
    granted(map_own(policy, 65535, host_b));
    CHECK(granted(policy.grant_any(request(65535, host_a, 8081), host_a, 3600, t0)).external == Port{1025});
}

TEST_CASE("AddAnyPortMapping says NoPortMapsAvailable when every permitted port is taken, 606 when none is permitted") {
    auto config = igd_config();
    config.permissions = {rule(true, {5000, 5001}, "192.168.50.0/24", {1024, 65535})};
    MappingPolicy policy(config, {});
    granted(map_own(policy, 5000, host_b));
    granted(map_own(policy, 5001, host_b));
    CHECK(refused(policy.grant_any(request(5000, host_a, 5000), host_a, 3600, t0)) ==
          MappingRefusal::no_port_maps_available);
    CHECK(refused(policy.grant_any(request(5000, host_a, 80), host_a, 3600, t0)) ==
          MappingRefusal::action_not_authorized);
}

TEST_CASE("DeletePortMapping: unknown is 714, a non-owner is refused in secure mode (606), the owner deletes") {
    MappingPolicy policy(igd_config(), {});
    granted(map_own(policy, 4000, host_a));
    CHECK(policy.remove(Protocol::tcp, Port{4001}, std::nullopt, host_a, t0) == MappingRefusal::no_such_entry);
    CHECK(policy.remove(Protocol::udp, Port{4000}, std::nullopt, host_a, t0) == MappingRefusal::no_such_entry);
    CHECK(policy.remove(Protocol::tcp, Port{4000}, lan(99), host_a, t0) == MappingRefusal::no_such_entry);
    CHECK(policy.remove(Protocol::tcp, Port{4000}, std::nullopt, host_b, t0) == MappingRefusal::action_not_authorized);
    CHECK(policy.remove(Protocol::tcp, Port{4000}, std::nullopt, host_a, t0) == std::nullopt);
    CHECK(policy.size() == 0);
}

TEST_CASE("DeletePortMappingRange removes the requester's mappings in the range and returns them") {
    MappingPolicy policy(igd_config(), {});
    for (std::uint16_t port : {4000, 4001, 4500}) granted(map_own(policy, port, host_a));
    granted(map_own(policy, 4002, host_b));
    auto result = policy.remove_range(Protocol::tcp, PortRange{4000, 4100}, host_a, true, t0);
    REQUIRE(std::holds_alternative<std::vector<PortMapping>>(result));
    CHECK(std::get<std::vector<PortMapping>>(result).size() == 2);
    CHECK(policy.size() == 2);  // host_b's 4002 (secure mode ignores manage) and 4500, outside

    using Result = std::variant<std::vector<PortMapping>, MappingRefusal>;
    CHECK(policy.remove_range(Protocol::tcp, PortRange{4000, 4100}, host_a, true, t0) ==
          Result{MappingRefusal::action_not_authorized});
    CHECK(policy.remove_range(Protocol::tcp, PortRange{100, 200}, host_a, true, t0) ==
          Result{MappingRefusal::port_mapping_not_found});
    CHECK(policy.remove_range(Protocol::tcp, PortRange{4100, 4000}, host_a, true, t0) ==
          Result{MappingRefusal::inconsistent_parameters});
}

TEST_CASE("DeletePortMappingRange with manage removes everybody's mappings outside secure mode") {
    auto config = igd_config();
    config.secure_mode = false;
    MappingPolicy policy(config, {});
    granted(map_own(policy, 4000, host_a));
    granted(map_own(policy, 4001, host_b));
    auto own_only = policy.remove_range(Protocol::tcp, PortRange{4000, 4001}, host_a, false, t0);
    CHECK(std::get<std::vector<PortMapping>>(own_only).size() == 1);
    auto managed = policy.remove_range(Protocol::tcp, PortRange{4000, 4001}, host_a, true, t0);
    CHECK(std::get<std::vector<PortMapping>>(managed).at(0).owner == host_b);
}

TEST_CASE("restore drops expired leases, caps long ones and refuses what the config no longer permits") {
    auto config = igd_config();
    config.max_lease_seconds = 3600;
    MappingPolicy policy(config, {{Protocol::tcp, PortRange{8080, 8080}}});
    auto saved = [](std::uint16_t port, Ipv4Address owner, std::optional<Instant> expires) {
        auto m = request(port, owner, port);
        m.owner = owner;
        m.expires = expires;
        return m;
    };
    auto report = policy.restore({saved(4000, host_a, t0 + 60s), saved(4001, host_a, t0),
                                  saved(4002, host_a, t0 + 99999s), saved(4003, host_a, std::nullopt),
                                  saved(8080, host_a, t0 + 60s), saved(80, host_a, t0 + 60s),
                                  saved(4000, host_b, t0 + 60s)},
                                 t0);
    CHECK(report.restored == 3);
    CHECK(report.expired == 1);
    REQUIRE(report.refused.size() == 3);
    CHECK(report.refused[0].reason == MappingRefusal::conflict_with_other_mechanisms);  // now a static forward
    CHECK(report.refused[1].reason == MappingRefusal::action_not_authorized);           // port 80
    CHECK(report.refused[2].reason == MappingRefusal::conflict);                        // 4000 is host_a's
    CHECK(policy.find(Protocol::tcp, Port{4000}, std::nullopt, t0)->expires == t0 + 60s);
    CHECK(policy.find(Protocol::tcp, Port{4002}, std::nullopt, t0)->expires == t0 + 3600s);
    CHECK(policy.find(Protocol::tcp, Port{4003}, std::nullopt, t0)->expires == t0 + 3600s);
}

TEST_CASE("descriptions are cut to 256 bytes on a character boundary and control characters replaced") {
    CHECK(normalized_description("Skype\r\nFAKE LOG LINE") == "Skype??FAKE LOG LINE");
    CHECK(normalized_description(std::string(300, 'x')).size() == max_description_bytes);
    // 255 ASCII bytes then a 2-byte 'é': the 'é' would straddle the limit, so it goes.
    CHECK(normalized_description(std::string(255, 'x') + "\xc3\xa9").size() == 255);
    MappingPolicy policy(igd_config(), {});
    auto r = request(4000, host_a, 4000);
    r.description = "a\tb";
    CHECK(granted(policy.grant(r, host_a, 60, t0)).description == "a?b");
}


TEST_CASE("C1 controls and Unicode bidi and invisible format characters in a description are replaced like C0 controls") {
    // U+0085 NEL, U+009B CSI: C1 controls a terminal may act on.
    CHECK(normalized_description("a\xc2\x85" "b\xc2\x9b" "31m") == "a?b?31m");
    // Trojan Source (CVE-2021-42574): RLO, LRI..PDI, LRM/RLM, ALM, zero-width space, BOM.
    CHECK(normalized_description("x\xe2\x80\xae" "cod.exe") == "x?cod.exe");
    CHECK(normalized_description("\xe2\x81\xa6" "a" "\xe2\x81\xa9") == "?a?");
    CHECK(normalized_description("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c\xe2\x80\x8b\xef\xbb\xbf") == "?????");
    CHECK(normalized_description("line\xe2\x80\xa8" "break") == "line?break");
}

TEST_CASE("ordinary non-ASCII text in a description is kept, invalid UTF-8 bytes are replaced one by one") {
    CHECK(normalized_description("Caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\xae") == "Caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\xae");
    CHECK(normalized_description("a\xff" "b") == "a?b");
    CHECK(normalized_description("\xc0\xae") == "??");          // overlong '.'
    CHECK(normalized_description("\xed\xa0\x80") == "???");     // a UTF-16 surrogate
    CHECK(normalized_description("\xe2\x80") == "??");          // cut short
}

TEST_CASE("outside secure mode no mapping names the gateway, a network or broadcast address, or a host off the LAN") {
    IgdConfig config = igd_config();
    config.secure_mode = false;
    config.permissions = {rule(true, {0, 65535}, "0.0.0.0/0", {0, 65535})};  // everything allowed by the rules
    config.lan_networks = {*Ipv4Network::parse("192.168.50.0/24")};
    config.gateway_addresses = {lan(1), Ipv4Address::from_octets(203, 0, 113, 1)};
    MappingPolicy policy(config, {});
    struct Row {
        Ipv4Address internal;
        LanAddressClass what;
    };
    for (Row row : {Row{lan(1), LanAddressClass::gateway}, Row{lan(0), LanAddressClass::network},
                    Row{lan(255), LanAddressClass::broadcast},
                    Row{Ipv4Address::from_octets(203, 0, 113, 1), LanAddressClass::gateway},
                    Row{Ipv4Address::from_octets(10, 0, 0, 5), LanAddressClass::outside_lan}}) {
        auto result = policy.grant(request(1900, row.internal, 1900, Protocol::udp), host_a, 3600, t0);
        CHECK(refused(result) == MappingRefusal::internal_client_not_lan_host);
        CHECK(upnp_error_code(refused(result)) == 606);
        CHECK(refused(policy.grant_any(request(0, row.internal, 49152), host_a, 3600, t0)) ==
              MappingRefusal::internal_client_not_lan_host);
    }
    CHECK(policy.internal_client_refusals()[std::size_t(LanAddressClass::gateway)] == 4);
    CHECK(policy.internal_client_refusals()[std::size_t(LanAddressClass::broadcast)] == 2);
    CHECK(policy.size() == 0);
    // Another LAN host is still a fine internal client outside secure mode.
    CHECK(granted(policy.grant(request(8080, host_b, 80), host_a, 3600, t0)).internal.address == host_b);
}

TEST_CASE("in secure mode a request from the gateway's own address for itself is refused too") {
    IgdConfig config = igd_config();
    config.lan_networks = {*Ipv4Network::parse("192.168.50.0/24")};
    config.gateway_addresses = {lan(1)};
    MappingPolicy policy(config, {});
    CHECK(refused(map_own(policy, 49152, lan(1))) == MappingRefusal::internal_client_not_lan_host);
}

}  // namespace gw
