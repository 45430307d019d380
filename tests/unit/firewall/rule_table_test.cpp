// The rule table as the packet path uses it: which rule decides a packet, what the
// policy does when none does, and how rate limits and counters behave over time.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "firewall/rule_table.hpp"

namespace gw {
namespace {

using std::chrono::milliseconds;

constexpr std::uint8_t tcp = 6;
constexpr std::uint8_t udp = 17;
constexpr std::uint8_t icmp = 1;
constexpr std::uint8_t gre = 47;

Ipv4Address address(const char* text) {
    return *Ipv4Address::parse(text);
}

Ipv4Network network(const char* text) {
    return *Ipv4Network::parse(text);
}

// A rule that matches every packet of `direction`; tests narrow it field by field.
FirewallRule rule(std::string name, RuleDirection direction, RuleAction action) {
    FirewallRule r;
    r.name = std::move(name);
    r.direction = direction;
    r.action = action;
    return r;
}

// An inbound TCP packet 198.51.100.7:40000 -> 192.168.50.20:3389 arriving on wan0.
PacketFacts tcp_packet() {
    return {.direction = RuleDirection::inbound,
            .protocol = tcp,
            .source = address("198.51.100.7"),
            .destination = address("192.168.50.20"),
            .source_port = Port{40000},
            .destination_port = Port{3389},
            .has_ports = true,
            .icmp_type = 0,
            .has_icmp_type = false,
            .arrival_interface = "wan0"};
}

PacketFacts from(const char* source) {
    PacketFacts p = tcp_packet();
    p.source = address(source);
    return p;
}

PacketFacts to_port(std::uint16_t port) {
    PacketFacts p = tcp_packet();
    p.destination_port = Port{port};
    return p;
}

PacketFacts icmp_packet(std::uint8_t type) {
    PacketFacts p = tcp_packet();
    p.protocol = icmp;
    p.has_ports = false;
    p.source_port = p.destination_port = Port{0};
    p.icmp_type = type;
    p.has_icmp_type = true;
    return p;
}

FirewallConfig config_of(std::vector<FirewallRule> rules) {
    FirewallConfig config;
    config.rules = std::move(rules);
    return config;
}

// The name of the rule that decided, or "policy".
std::string decided_by(RuleTable& table, const PacketFacts& packet, Instant now = Instant{0}) {
    RuleDecision decision = table.decide(packet, now);
    return decision.rule ? decision.rule->name : "policy";
}

const Instant t0{0};

}  // namespace

TEST_CASE("a source network matches the addresses inside it and no others") {
    FirewallRule office = rule("office", RuleDirection::inbound, RuleAction::accept);
    office.sources = {network("198.51.100.0/24")};
    RuleTable table(config_of({office}));
    CHECK(decided_by(table, from("198.51.100.0")) == "office");
    CHECK(decided_by(table, from("198.51.100.255")) == "office");
    CHECK(decided_by(table, from("198.51.99.255")) == "policy");
    CHECK(decided_by(table, from("198.51.101.0")) == "policy");
}

TEST_CASE("a /0 network matches every address") {
    FirewallRule everyone = rule("everyone", RuleDirection::inbound, RuleAction::accept);
    everyone.sources = {network("0.0.0.0/0")};
    RuleTable table(config_of({everyone}));
    CHECK(decided_by(table, from("0.0.0.0")) == "everyone");
    CHECK(decided_by(table, from("203.0.113.9")) == "everyone");
    CHECK(decided_by(table, from("255.255.255.255")) == "everyone");
}

TEST_CASE("a /32 network matches exactly one address") {
    FirewallRule host = rule("host", RuleDirection::inbound, RuleAction::accept);
    host.destinations = {network("192.168.50.20/32")};
    RuleTable table(config_of({host}));
    PacketFacts packet = tcp_packet();
    CHECK(decided_by(table, packet) == "host");
    packet.destination = address("192.168.50.21");
    CHECK(decided_by(table, packet) == "policy");
    packet.destination = address("192.168.50.19");
    CHECK(decided_by(table, packet) == "policy");
}

TEST_CASE("any of a rule's networks may match") {
    FirewallRule two = rule("two", RuleDirection::inbound, RuleAction::accept);
    two.sources = {network("10.0.0.0/8"), network("198.51.100.7/32")};
    RuleTable table(config_of({two}));
    CHECK(decided_by(table, from("10.200.0.1")) == "two");
    CHECK(decided_by(table, from("198.51.100.7")) == "two");
    CHECK(decided_by(table, from("198.51.100.8")) == "policy");
}

TEST_CASE("a port range matches its first and last port and nothing outside it") {
    FirewallRule vnc = rule("vnc", RuleDirection::inbound, RuleAction::accept);
    vnc.protocol = Protocol::tcp;
    vnc.destination_ports = {PortRange{5900, 5909}, PortRange{3389, 3389}};
    RuleTable table(config_of({vnc}));
    CHECK(decided_by(table, to_port(5899)) == "policy");
    CHECK(decided_by(table, to_port(5900)) == "vnc");
    CHECK(decided_by(table, to_port(5909)) == "vnc");
    CHECK(decided_by(table, to_port(5910)) == "policy");
    CHECK(decided_by(table, to_port(3389)) == "vnc");
}

TEST_CASE("a source port condition reads the source port") {
    FirewallRule high = rule("high", RuleDirection::inbound, RuleAction::accept);
    high.protocol = Protocol::tcp;
    high.source_ports = {PortRange{1024, 65535}};
    RuleTable table(config_of({high}));
    PacketFacts packet = tcp_packet();
    CHECK(decided_by(table, packet) == "high");
    packet.source_port = Port{1023};
    CHECK(decided_by(table, packet) == "policy");
}

TEST_CASE("a port condition does not match a packet without ports, such as a later fragment") {
    FirewallRule rdp = rule("rdp", RuleDirection::inbound, RuleAction::accept);
    rdp.protocol = Protocol::tcp;
    rdp.destination_ports = {PortRange{3389, 3389}};
    RuleTable table(config_of({rdp}));
    PacketFacts fragment = tcp_packet();
    fragment.has_ports = false;
    CHECK(decided_by(table, fragment) == "policy");
}

TEST_CASE("the first matching rule decides") {
    RuleTable table(config_of({rule("first", RuleDirection::inbound, RuleAction::accept),
                               rule("second", RuleDirection::inbound, RuleAction::drop)}));
    RuleDecision decision = table.decide(tcp_packet(), t0);
    REQUIRE(decision.rule);
    CHECK(decision.rule->name == "first");
    CHECK(decision.action == RuleAction::accept);
}

TEST_CASE("a later broader rule does not override an earlier narrow one") {
    FirewallRule office = rule("office", RuleDirection::inbound, RuleAction::accept);
    office.sources = {network("198.51.100.7/32")};
    RuleTable table(config_of({office, rule("everyone-else", RuleDirection::inbound, RuleAction::drop)}));
    CHECK(table.decide(from("198.51.100.7"), t0).action == RuleAction::accept);
    CHECK(table.decide(from("198.51.100.8"), t0).action == RuleAction::drop);
}

TEST_CASE("an earlier broader rule shadows a later narrow one") {
    FirewallRule office = rule("office", RuleDirection::inbound, RuleAction::accept);
    office.sources = {network("198.51.100.7/32")};
    RuleTable table(config_of({rule("everyone", RuleDirection::inbound, RuleAction::drop), office}));
    CHECK(decided_by(table, from("198.51.100.7")) == "everyone");
}

TEST_CASE("when no rule matches, the default policy of the packet's direction decides") {
    FirewallConfig config;
    config.policies = {RuleAction::reject, RuleAction::drop, RuleAction::accept};  // inbound, outbound, input
    RuleTable table(config);
    struct Row {
        RuleDirection direction;
        RuleAction expected;
    };
    for (Row row : {Row{RuleDirection::inbound, RuleAction::reject}, Row{RuleDirection::outbound, RuleAction::drop},
                    Row{RuleDirection::input, RuleAction::accept}}) {
        INFO(rule_direction_name(row.direction));
        PacketFacts packet = tcp_packet();
        packet.direction = row.direction;
        RuleDecision decision = table.decide(packet, t0);
        CHECK(decision.action == row.expected);
        CHECK(decision.rule == nullptr);
        CHECK_FALSE(decision.log);
    }
}

TEST_CASE("the default policies are drop inbound, accept outbound and drop to the gateway") {
    RuleTable table(FirewallConfig{});
    PacketFacts packet = tcp_packet();
    CHECK(table.decide(packet, t0).action == RuleAction::drop);
    packet.direction = RuleDirection::outbound;
    CHECK(table.decide(packet, t0).action == RuleAction::accept);
    packet.direction = RuleDirection::input;
    CHECK(table.decide(packet, t0).action == RuleAction::drop);
}

TEST_CASE("a rule only sees packets of its own direction") {
    RuleTable table(config_of({rule("outbound-only", RuleDirection::outbound, RuleAction::reject),
                               rule("input-only", RuleDirection::input, RuleAction::accept)}));
    PacketFacts packet = tcp_packet();
    CHECK(decided_by(table, packet) == "policy");
    packet.direction = RuleDirection::outbound;
    CHECK(decided_by(table, packet) == "outbound-only");
    packet.direction = RuleDirection::input;
    CHECK(decided_by(table, packet) == "input-only");
}

TEST_CASE("protocol any matches TCP, UDP, ICMP and protocols the parser does not know") {
    RuleTable table(config_of({rule("anything", RuleDirection::inbound, RuleAction::drop)}));
    for (std::uint8_t protocol : {tcp, udp, icmp, gre}) {
        INFO(int(protocol));
        PacketFacts packet = tcp_packet();
        packet.protocol = protocol;
        CHECK(decided_by(table, packet) == "anything");
    }
}

TEST_CASE("a rule for one protocol matches only that protocol") {
    FirewallRule udp_only = rule("udp-only", RuleDirection::inbound, RuleAction::accept);
    udp_only.protocol = Protocol::udp;
    RuleTable table(config_of({udp_only}));
    PacketFacts packet = tcp_packet();
    CHECK(decided_by(table, packet) == "policy");
    packet.protocol = udp;
    CHECK(decided_by(table, packet) == "udp-only");
    packet.protocol = gre;
    CHECK(decided_by(table, packet) == "policy");
}

TEST_CASE("an icmp_type rule matches only ICMP packets of that type") {
    FirewallRule ping = rule("ping", RuleDirection::inbound, RuleAction::accept);
    ping.protocol = Protocol::icmp;
    ping.icmp_type = 8;
    FirewallRule other_icmp = rule("other-icmp", RuleDirection::inbound, RuleAction::drop);
    other_icmp.protocol = Protocol::icmp;
    RuleTable table(config_of({ping, other_icmp}));
    CHECK(decided_by(table, icmp_packet(8)) == "ping");
    CHECK(decided_by(table, icmp_packet(0)) == "other-icmp");
    CHECK(decided_by(table, icmp_packet(11)) == "other-icmp");
    PacketFacts no_header = icmp_packet(8);
    no_header.has_icmp_type = false;  // a later fragment of an ICMP datagram
    CHECK(decided_by(table, no_header) == "other-icmp");
}

TEST_CASE("an interface rule matches only packets arriving on that interface") {
    FirewallRule wan_side = rule("wan-side", RuleDirection::input, RuleAction::drop);
    wan_side.interface = "wan0";
    RuleTable table(config_of({wan_side}));
    PacketFacts packet = tcp_packet();
    packet.direction = RuleDirection::input;
    CHECK(decided_by(table, packet) == "wan-side");
    packet.arrival_interface = "lan0";
    CHECK(decided_by(table, packet) == "policy");
    packet.arrival_interface = "wan01";
    CHECK(decided_by(table, packet) == "policy");
}

TEST_CASE("every condition of a rule must hold for it to match") {
    FirewallRule exact = rule("exact", RuleDirection::inbound, RuleAction::accept);
    exact.protocol = Protocol::tcp;
    exact.sources = {network("198.51.100.0/24")};
    exact.destinations = {network("192.168.50.20/32")};
    exact.destination_ports = {PortRange{3389, 3389}};
    exact.interface = "wan0";
    RuleTable table(config_of({exact}));
    CHECK(decided_by(table, tcp_packet()) == "exact");
    CHECK(decided_by(table, from("203.0.113.1")) == "policy");
    CHECK(decided_by(table, to_port(3390)) == "policy");
    PacketFacts other_interface = tcp_packet();
    other_interface.arrival_interface = "wan1";
    CHECK(decided_by(table, other_interface) == "policy");
}

TEST_CASE("a rule with log asks for the packets it decides to be logged") {
    FirewallRule logged = rule("logged", RuleDirection::inbound, RuleAction::drop);
    logged.log = true;
    logged.protocol = Protocol::tcp;
    RuleTable table(config_of({logged, rule("quiet", RuleDirection::inbound, RuleAction::drop)}));
    CHECK(table.decide(tcp_packet(), t0).log);
    CHECK_FALSE(table.decide(icmp_packet(8), t0).log);
}

TEST_CASE("a rule over its rate limit stops matching and the packet falls through to the next rule") {
    FirewallRule ssh = rule("ssh-limited", RuleDirection::inbound, RuleAction::accept);
    ssh.rate_limit = RateLimit{3, 3, 0};
    RuleTable table(config_of({ssh, rule("drop-rest", RuleDirection::inbound, RuleAction::drop)}));
    for (int i = 0; i < 3; ++i) CHECK(decided_by(table, tcp_packet(), milliseconds(i)) == "ssh-limited");
    RuleDecision fourth = table.decide(tcp_packet(), milliseconds(3));
    REQUIRE(fourth.rule);
    CHECK(fourth.rule->name == "drop-rest");
    CHECK(fourth.action == RuleAction::drop);
}

TEST_CASE("a packet over the only rule's rate limit gets the default policy") {
    FirewallRule ping = rule("ping", RuleDirection::input, RuleAction::accept);
    ping.rate_limit = RateLimit{1, 1, 0};
    RuleTable table(config_of({ping}));
    PacketFacts packet = icmp_packet(8);
    packet.direction = RuleDirection::input;
    CHECK(table.decide(packet, t0).action == RuleAction::accept);
    RuleDecision second = table.decide(packet, t0);
    CHECK(second.rule == nullptr);
    CHECK(second.action == RuleAction::drop);
}

TEST_CASE("a rate-limited rule earns one packet every 1/N seconds") {
    FirewallRule limited = rule("limited", RuleDirection::inbound, RuleAction::accept);
    limited.rate_limit = RateLimit{3, 1, 0};  // one packet every 333.3 ms
    RuleTable table(config_of({limited}));
    CHECK(decided_by(table, tcp_packet(), milliseconds(1000)) == "limited");
    CHECK(decided_by(table, tcp_packet(), milliseconds(1000)) == "policy");
    CHECK(decided_by(table, tcp_packet(), milliseconds(1333)) == "policy");
    CHECK(decided_by(table, tcp_packet(), milliseconds(1334)) == "limited");
}

TEST_CASE("packets a rule does not match do not spend its tokens") {
    FirewallRule ssh = rule("ssh", RuleDirection::inbound, RuleAction::accept);
    ssh.protocol = Protocol::tcp;
    ssh.destination_ports = {PortRange{22, 22}};
    ssh.rate_limit = RateLimit{1, 1, 0};
    RuleTable table(config_of({ssh}));
    for (int i = 0; i < 10; ++i) CHECK(decided_by(table, to_port(80)) == "policy");
    PacketFacts outbound = to_port(22);
    outbound.direction = RuleDirection::outbound;
    CHECK(decided_by(table, outbound) == "policy");
    CHECK(decided_by(table, to_port(22)) == "ssh");
}

TEST_CASE("counters count each rule's matches and rate-limited packets, in rule order") {
    FirewallRule limited = rule("limited", RuleDirection::inbound, RuleAction::accept);
    limited.rate_limit = RateLimit{2, 2, 0};
    FirewallRule never = rule("never", RuleDirection::outbound, RuleAction::drop);
    FirewallRule rest = rule("rest", RuleDirection::inbound, RuleAction::drop);
    rest.protocol = Protocol::udp;
    RuleTable table(config_of({limited, never, rest}));
    for (int i = 0; i < 5; ++i) table.decide(tcp_packet(), t0);  // 2 match, 3 over the limit, to the policy
    PacketFacts udp_packet = tcp_packet();
    udp_packet.protocol = udp;
    table.decide(udp_packet, t0);  // limited is spent: falls through to rest

    std::vector<RuleTable::RuleCounter> counters = table.counters();
    REQUIRE(counters.size() == 3);
    CHECK(counters[0].name == "limited");
    CHECK(counters[0].matched == 2);
    CHECK(counters[0].rate_limited == 4);
    CHECK(counters[1].name == "never");
    CHECK(counters[1].matched == 0);
    CHECK(counters[1].rate_limited == 0);
    CHECK(counters[2].name == "rest");
    CHECK(counters[2].matched == 1);
    CHECK(table.policy_decisions(RuleDirection::inbound) == 3);
    CHECK(table.policy_decisions(RuleDirection::outbound) == 0);
}

TEST_CASE("a decision's rule belongs to the table, not to the config it was built from") {
    std::optional<RuleTable> table;
    {
        FirewallConfig config = config_of({rule("kept", RuleDirection::inbound, RuleAction::accept)});
        table.emplace(config);
    }
    RuleDecision decision = table->decide(tcp_packet(), t0);
    REQUIRE(decision.rule);
    CHECK(decision.rule->name == "kept");
    CHECK(table->counters().at(0).name == "kept");
}

TEST_CASE("enum names are the config file's spellings") {
    CHECK(rule_action_name(RuleAction::accept) == "accept");
    CHECK(rule_action_name(RuleAction::drop) == "drop");
    CHECK(rule_action_name(RuleAction::reject) == "reject");
    CHECK(rule_direction_name(RuleDirection::inbound) == "inbound");
    CHECK(rule_direction_name(RuleDirection::outbound) == "outbound");
    CHECK(rule_direction_name(RuleDirection::input) == "input");
    CHECK(filtering_behaviour_name(FilteringBehaviour::endpoint_independent) == "endpoint-independent");
    CHECK(filtering_behaviour_name(FilteringBehaviour::address_dependent) == "address-dependent");
    CHECK(filtering_behaviour_name(FilteringBehaviour::address_and_port_dependent) == "address-and-port-dependent");
}

}  // namespace gw

namespace gw {

TEST_CASE("a rule counts the bytes of the packets it decides, and the policy those no rule decides") {
    RuleTable table(config_of({rule("rdp", RuleDirection::inbound, RuleAction::accept)}));
    PacketFacts packet = tcp_packet();
    packet.length = 60;
    table.decide(packet, t0);
    packet.length = 1500;
    table.decide(packet, t0);
    PacketFacts outbound = tcp_packet();
    outbound.direction = RuleDirection::outbound;
    outbound.length = 40;
    table.decide(outbound, t0);
    auto counters = table.counters();
    REQUIRE(counters.size() == 1);
    CHECK(counters[0].matched == 2);
    CHECK(counters[0].bytes == 1560);
    CHECK(table.policy_decisions(RuleDirection::outbound) == 1);
    CHECK(table.policy_bytes(RuleDirection::outbound) == 40);
}

TEST_CASE("a reload keeps the counters of an unchanged rule, even moved, and zeroes a changed one") {
    FirewallRule kept = rule("rdp", RuleDirection::inbound, RuleAction::accept);
    FirewallRule changed = rule("smtp", RuleDirection::outbound, RuleAction::drop);
    RuleTable before(config_of({changed, kept}));
    PacketFacts inbound = tcp_packet();
    inbound.length = 100;
    PacketFacts outbound = tcp_packet();
    outbound.direction = RuleDirection::outbound;
    outbound.length = 50;
    before.decide(inbound, t0);
    before.decide(outbound, t0);

    FirewallRule moved = kept;
    moved.position.line = 40;  // a rule added above it moved it down the file
    FirewallRule narrowed = changed;
    narrowed.destination_ports = {PortRange{25, 25}};
    FirewallRule added = rule("new", RuleDirection::input, RuleAction::drop);
    RuleTable after(config_of({added, narrowed, moved}));
    after.keep_counters_of(before);

    auto counters = after.counters();
    REQUIRE(counters.size() == 3);
    CHECK(counters[0].name == "new");
    CHECK(counters[0].matched == 0);
    CHECK(counters[1].name == "smtp");
    CHECK(counters[1].matched == 0);  // its conditions changed: it is a new rule
    CHECK(counters[2].name == "rdp");
    CHECK(counters[2].matched == 1);
    CHECK(counters[2].bytes == 100);
}

TEST_CASE("a reload keeps a policy's counters only while the policy stays the same") {
    FirewallConfig config;  // inbound drop, outbound accept
    RuleTable before(config);
    PacketFacts inbound = tcp_packet();
    inbound.length = 70;
    PacketFacts outbound = tcp_packet();
    outbound.direction = RuleDirection::outbound;
    outbound.length = 30;
    before.decide(inbound, t0);
    before.decide(outbound, t0);

    FirewallConfig next;
    next.policies.outbound = RuleAction::drop;
    RuleTable after(next);
    after.keep_counters_of(before);
    CHECK(after.policy_bytes(RuleDirection::inbound) == 70);
    CHECK(after.policy_decisions(RuleDirection::outbound) == 0);
}

}  // namespace gw
