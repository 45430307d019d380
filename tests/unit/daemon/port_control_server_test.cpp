// The UDP 5351 server as a client sees it, over loopback only: NAT-PMP answered through
// the mapping service, requests dispatched by version (a registered PCP handler gets
// version 2, and without one a PCP client is told Unsupported Version), sources outside
// the LAN dropped, and the external address announced (to a loopback socket here, in
// place of 224.0.0.1:5350).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "daemon/port_control_server.hpp"

namespace gw {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr Ipv4Address loopback = Ipv4Address::from_octets(127, 0, 0, 1);
constexpr Ipv4Address external = Ipv4Address::from_octets(203, 0, 113, 1);

struct ScratchDirectory {
    std::filesystem::path path;
    ScratchDirectory() {
        std::string name = (std::filesystem::temp_directory_path() / "gw_port_control_test_XXXXXX").string();
        REQUIRE(mkdtemp(name.data()) != nullptr);
        path = name;
    }
    ~ScratchDirectory() { std::filesystem::remove_all(path); }
};

// A UDP socket on 127.0.0.1, any port, that waits up to 2 s for a datagram.
class LoopbackSocket {
public:
    LoopbackSocket() {
        fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_in a = address_of(0);
        REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t length = sizeof a;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &length);
        port_ = ntohs(a.sin_port);
        timeval timeout{2, 0};
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    }
    ~LoopbackSocket() { close(fd_); }
    std::uint16_t port() const { return port_; }
    void send(std::uint16_t to_port, const Bytes& bytes) {
        sockaddr_in to = address_of(to_port);
        REQUIRE(sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
                ssize_t(bytes.size()));
    }
    // The next datagram, or nullopt after 2 s.
    std::optional<Bytes> receive() {
        Bytes buffer(1500);
        ssize_t n = recv(fd_, buffer.data(), buffer.size(), 0);
        if (n < 0) return std::nullopt;
        buffer.resize(std::size_t(n));
        return buffer;
    }

private:
    static sockaddr_in address_of(std::uint16_t port) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(loopback.host_order());
        a.sin_port = htons(port);
        return a;
    }
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

IgdConfig policy_config(const ScratchDirectory& dir) {
    IgdConfig config;
    config.permissions = {UpnpPermission{true, PortRange{1024, 65535}, *Ipv4Network::parse("192.168.50.0/24"),
                                         PortRange{1024, 65535}}};
    config.lease_file = (dir.path / "leases").string();
    return config;
}

// The server on 127.0.0.1 (any port), its announcements to `announcements`.
struct ServerUnderTest {
    ScratchDirectory dir;
    EngineCommandQueue commands;
    PortMappingService service{policy_config(dir), {}, commands};
    LoopbackSocket announcements;
    std::optional<PortControlServer> server;

    explicit ServerUnderTest(std::vector<Ipv4Network> lan = {*Ipv4Network::parse("127.0.0.0/8")},
                             bool natpmp_enabled = true) {
        service.start();
        PortControlServerOptions options;
        options.lan_interface = "lo";
        options.lan_address = loopback;
        options.lan_networks = std::move(lan);
        options.external_address = external;
        options.port = 0;
        options.natpmp_enabled = natpmp_enabled;
        options.announce_to = Endpoint{loopback, Port{announcements.port()}};
        server.emplace(options, service);
    }
    std::size_t opened() {
        std::size_t n = 0;
        for (const auto& c : commands.take()) n += std::holds_alternative<OpenPortMapping>(c);
        return n;
    }
};

}  // namespace

TEST_CASE("the server answers a NAT-PMP external address request with the WAN address") {
    ServerUnderTest t;
    t.server->start();
    LoopbackSocket client;
    client.send(t.server->bound_port(), Bytes{0, 0});
    auto answer = client.receive();
    REQUIRE(answer);
    REQUIRE(answer->size() == 12);
    CHECK((*answer)[1] == 128);
    CHECK(Bytes(answer->begin() + 8, answer->end()) == Bytes{203, 0, 113, 1});
    CHECK(t.server->counts().natpmp_results[0] == 1);
}

TEST_CASE("a NAT-PMP mapping request goes through the service's policy, which never maps to loopback") {
    ServerUnderTest t;
    t.server->start();
    LoopbackSocket client;
    client.send(t.server->bound_port(), Bytes{0, 1, 0, 0, 0x13, 0x88, 0x13, 0x88, 0, 0, 0x0e, 0x10});
    auto answer = client.receive();
    REQUIRE(answer);
    REQUIRE(answer->size() == 16);
    CHECK(Bytes(answer->begin(), answer->begin() + 4) == Bytes{0, 129, 0, 2});  // Not Authorized
    CHECK(((*answer)[8] << 8 | (*answer)[9]) == 5000);                         // internal port echoed
    CHECK(t.opened() == 0);
    CHECK(t.service.mappings().empty());
    CHECK(t.server->counts().natpmp_results[2] == 1);
}

TEST_CASE("without a PCP handler a PCP request is answered NAT-PMP Unsupported Version") {
    ServerUnderTest t;
    t.server->start();
    LoopbackSocket client;
    client.send(t.server->bound_port(), Bytes{2, 1, 0, 0, 0, 0, 0x0e, 0x10});
    auto answer = client.receive();
    REQUIRE(answer);
    REQUIRE(answer->size() == 8);
    CHECK(Bytes(answer->begin(), answer->begin() + 4) == Bytes{0, 129, 0, 1});
    CHECK(t.server->counts().unsupported_version == 1);
}

TEST_CASE("a registered PCP handler gets version-2 requests and its changes are carried out") {
    ServerUnderTest t;
    std::optional<Endpoint> seen_client;
    Bytes seen_request;
    t.server->set_pcp_handler([&](std::span<const std::uint8_t> request, Endpoint client,
                                  const PortControlContext& context, MappingPolicy& policy, Instant now) {
        seen_client = client;
        seen_request.assign(request.begin(), request.end());
        PortControlAnswer answer;
        // As a THIRD_PARTY request would (the policy never maps to loopback itself).
        PortMapping m;
        m.protocol = Protocol::udp;
        m.external = Port{6000};
        m.internal = Endpoint{Ipv4Address::from_octets(192, 168, 50, 20), Port{6000}};
        m.description = "PCP test";
        auto granted = policy.grant(m, m.internal.address, 60, now);
        // No REQUIRE here: this runs on the server's thread.
        if (auto* g = std::get_if<PortMapping>(&granted)) answer.changes.granted.push_back(*g);
        answer.response = {2, 0x81, 0, 0, std::uint8_t(context.external_address ? 1 : 0)};
        answer.pcp_result = PcpResult::success;
        return answer;
    });
    t.server->start();
    LoopbackSocket client;
    client.send(t.server->bound_port(), Bytes{2, 1, 0, 0, 9, 9});
    auto answer = client.receive();
    REQUIRE(answer);
    CHECK(*answer == Bytes{2, 0x81, 0, 0, 1});
    REQUIRE(seen_client);
    CHECK(*seen_client == Endpoint{loopback, Port{client.port()}});
    CHECK(seen_request == Bytes{2, 1, 0, 0, 9, 9});
    CHECK(t.opened() == 1);
    CHECK(t.server->counts().pcp_requests == 1);
    CHECK(t.server->counts().pcp_results[std::size_t(PcpResult::success)] == 1);
    // NAT-PMP still goes to NAT-PMP.
    client.send(t.server->bound_port(), Bytes{0, 0});
    auto natpmp = client.receive();
    REQUIRE(natpmp);
    CHECK(natpmp->size() == 12);
}

TEST_CASE("a PCP request longer than 1100 octets reaches the handler as too long, not cut to 1100") {
    ServerUnderTest t;
    std::atomic<std::size_t> seen_size{0};
    t.server->set_pcp_handler([&](std::span<const std::uint8_t> request, Endpoint, const PortControlContext&,
                                  MappingPolicy&, Instant) {
        seen_size = request.size();
        return PortControlAnswer{Bytes{2, 0x81, 0, 3}, {}, PcpResult::malformed_request};
    });
    t.server->start();
    LoopbackSocket client;
    Bytes oversized(1104, 0);
    oversized[0] = 2;
    oversized[1] = 1;
    client.send(t.server->bound_port(), oversized);
    REQUIRE(client.receive());
    CHECK(seen_size > 1100);
    CHECK(t.server->counts().pcp_results[std::size_t(PcpResult::malformed_request)] == 1);
}

TEST_CASE("with NAT-PMP off, version 0 goes to the PCP handler, and is not answered without one") {
    const auto lan = std::vector<Ipv4Network>{*Ipv4Network::parse("127.0.0.0/8")};
    {
        ServerUnderTest t(lan, false);
        t.server->start();
        LoopbackSocket client;
        client.send(t.server->bound_port(), Bytes{0, 0});
        CHECK_FALSE(client.receive());
        CHECK(t.server->counts().natpmp_results[0] == 0);
        // Nor is the address announced: that is NAT-PMP's.
        CHECK(t.server->counts().announcements == 0);
    }
    ServerUnderTest t(lan, false);
    t.server->set_pcp_handler([](std::span<const std::uint8_t> request, Endpoint, const PortControlContext&,
                                 MappingPolicy&, Instant) {
        // RFC 6887 9: a PCP-only server answers NAT-PMP as PCP UNSUPP_VERSION (here a marker).
        return PortControlAnswer{{2, std::uint8_t(0x80 | request[1]), 0, 1}, {}, PcpResult::unsupp_version};
    });
    t.server->start();
    LoopbackSocket client;
    client.send(t.server->bound_port(), Bytes{0, 0});
    auto answer = client.receive();
    REQUIRE(answer);
    CHECK(*answer == Bytes{2, 0x80, 0, 1});
    CHECK(t.server->counts().pcp_requests == 1);
}

TEST_CASE("a request from outside the LAN networks is dropped and counted") {
    ServerUnderTest t({*Ipv4Network::parse("192.168.50.0/24")});
    t.server->start();
    LoopbackSocket client;
    client.send(t.server->bound_port(), Bytes{0, 0});
    CHECK_FALSE(client.receive());
    CHECK(t.server->counts().outside_lan == 1);
}

TEST_CASE("the external address is announced on start and again when it changes (RFC 6886 3.2.1)") {
    ServerUnderTest t;
    t.server->start();
    auto first = t.announcements.receive();
    REQUIRE(first);
    CHECK(*first == Bytes{0, 128, 0, 0, 0, 0, 0, 0, 203, 0, 113, 1});
    t.server->announce_external_address(Ipv4Address::from_octets(198, 51, 100, 7));
    // The start-up schedule's next one may still be on its way; the new address follows at once.
    std::optional<Bytes> next;
    for (int i = 0; i < 3; ++i) {
        next = t.announcements.receive();
        REQUIRE(next);
        if (Bytes(next->begin() + 8, next->end()) == Bytes{198, 51, 100, 7}) break;
    }
    CHECK(Bytes(next->begin() + 8, next->end()) == Bytes{198, 51, 100, 7});
    // And a NAT-PMP client is told the new address from now on.
    LoopbackSocket client;
    client.send(t.server->bound_port(), Bytes{0, 0});
    auto answer = client.receive();
    REQUIRE(answer);
    CHECK(Bytes(answer->begin() + 8, answer->end()) == Bytes{198, 51, 100, 7});
}

TEST_CASE("with PCP on, an unsolicited PCP ANNOUNCE follows each NAT-PMP announcement, and stands alone without NAT-PMP") {
    auto handler = [](std::span<const std::uint8_t>, Endpoint, const PortControlContext&, MappingPolicy&, Instant) {
        return PortControlAnswer{};
    };
    const Bytes pcp_announce_head{2, 0x80, 0, 0, 0, 0, 0, 0};  // version 2, ANNOUNCE response, SUCCESS, lifetime 0
    {
        ServerUnderTest t;
        t.server->set_pcp_handler(handler);
        t.server->start();
        auto natpmp = t.announcements.receive();
        auto pcp = t.announcements.receive();
        REQUIRE(natpmp);
        REQUIRE(pcp);
        CHECK(natpmp->size() == 12);
        CHECK(pcp->size() == 24);
        CHECK(Bytes(pcp->begin(), pcp->begin() + 8) == pcp_announce_head);
    }
    ServerUnderTest t({*Ipv4Network::parse("127.0.0.0/8")}, false);
    t.server->set_pcp_handler(handler);
    t.server->start();
    auto pcp = t.announcements.receive();
    REQUIRE(pcp);
    CHECK(pcp->size() == 24);
    CHECK(Bytes(pcp->begin(), pcp->begin() + 8) == pcp_announce_head);
}

namespace {

// The upstream worker as a front end sees it (wan.upstream_mappings): a fixed outcome.
struct FakeCarrier : UpstreamCarrier {
    UpstreamOutcome outcome;
    bool refuse = false;
    std::vector<CarriedKey> asked;
    int refused_locally = 0, kept = 0;
    UpstreamOutcome await_upstream(const CarriedKey& key, std::chrono::milliseconds) override {
        asked.push_back(key);
        return outcome;
    }
    bool refusing_on_failure() const override { return refuse; }
    void report_refused_locally(const std::string&) override { ++refused_locally; }
    void report_kept_without_upstream(const std::string&) override { ++kept; }
};

// A PCP handler that grants udp 6000 for 3600 s, answered as a MAP response.
PcpRequestHandler granting_pcp_handler() {
    return [](std::span<const std::uint8_t>, Endpoint, const PortControlContext& context, MappingPolicy& policy,
              Instant now) {
        PortControlAnswer answer;
        PortMapping m;
        m.protocol = Protocol::udp;
        m.external = Port{6000};
        m.internal = Endpoint{Ipv4Address::from_octets(192, 168, 50, 20), Port{6000}};
        m.description = "PCP test";
        auto granted = policy.grant(m, m.internal.address, 3600, now);
        if (auto* g = std::get_if<PortMapping>(&granted)) answer.changes.granted.push_back(*g);
        PcpResponse r;
        r.opcode = PcpOpcode::map;
        r.lifetime = 3600;
        r.epoch_seconds = context.epoch_seconds;
        PcpMapData map;
        map.protocol = 17;
        map.internal_port = Port{6000};
        map.external_port = Port{6000};
        map.external_address = *Ipv6Address::parse("::ffff:203.0.113.1");
        r.data = map;
        answer.response = encode_pcp_response(r);
        answer.pcp_result = PcpResult::success;
        return answer;
    };
}

}  // namespace

TEST_CASE("a PCP grant carried upstream is answered with the upstream's address, port and shorter lifetime") {
    ServerUnderTest t;
    FakeCarrier carrier;
    carrier.outcome.kind = UpstreamOutcome::Kind::held;
    carrier.outcome.external_address = Ipv4Address::from_octets(198, 51, 100, 7);
    carrier.outcome.external_port = Port{40000};
    carrier.outcome.lifetime_left = std::chrono::seconds(600);
    t.server->set_pcp_handler(granting_pcp_handler());
    t.server->set_upstream_carrier(&carrier);
    t.server->start();
    LoopbackSocket client;
    client.send(t.server->bound_port(), Bytes{2, 1, 0, 0});
    auto answer = client.receive();
    REQUIRE(answer);
    auto decoded = decode_pcp_response(*answer);
    REQUIRE(decoded);
    CHECK(decoded->result == PcpResult::success);
    CHECK(decoded->lifetime == 600);
    const auto& map = std::get<PcpMapData>(decoded->data);
    CHECK(map.external_port == Port{40000});
    CHECK(map.external_address == *Ipv6Address::parse("::ffff:198.51.100.7"));
    CHECK(carrier.asked == std::vector<CarriedKey>{{Protocol::udp, Port{6000}}});
    CHECK(t.service.mappings().size() == 1);
}

TEST_CASE("under wan.upstream_failure: refuse a grant the upstream refused is undone and answered NO_RESOURCES") {
    ServerUnderTest t;
    FakeCarrier carrier;
    carrier.refuse = true;
    carrier.outcome.kind = UpstreamOutcome::Kind::failed;
    carrier.outcome.failure = UpstreamFailure{UpstreamFailure::Kind::refused, "NOT_AUTHORIZED"};
    t.server->set_pcp_handler(granting_pcp_handler());
    t.server->set_upstream_carrier(&carrier);
    t.server->start();
    LoopbackSocket client;
    client.send(t.server->bound_port(), Bytes{2, 1, 0, 0});
    auto answer = client.receive();
    REQUIRE(answer);
    auto decoded = decode_pcp_response(*answer);
    REQUIRE(decoded);
    CHECK(decoded->result == PcpResult::no_resources);
    CHECK(t.service.mappings().empty());
    CHECK(carrier.refused_locally == 1);
}

TEST_CASE("under wan.upstream_failure: keep a grant the upstream refused keeps its local answer, counted") {
    ServerUnderTest t;
    FakeCarrier carrier;
    carrier.outcome.kind = UpstreamOutcome::Kind::failed;
    carrier.outcome.failure = UpstreamFailure{UpstreamFailure::Kind::no_answer, "timeout"};
    t.server->set_pcp_handler(granting_pcp_handler());
    t.server->set_upstream_carrier(&carrier);
    t.server->start();
    LoopbackSocket client;
    client.send(t.server->bound_port(), Bytes{2, 1, 0, 0});
    auto answer = client.receive();
    REQUIRE(answer);
    auto decoded = decode_pcp_response(*answer);
    REQUIRE(decoded);
    CHECK(decoded->result == PcpResult::success);
    CHECK(decoded->lifetime == 3600);
    CHECK(std::get<PcpMapData>(decoded->data).external_port == Port{6000});
    CHECK(t.service.mappings().size() == 1);
    CHECK(carrier.kept == 1);
}

}  // namespace gw
