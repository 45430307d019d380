// The log line of a refused AddPortMapping or AddPinhole (igd/refusal_reasons.hpp): it names
// the client, what was asked (protocol, external port -> internal address:port), the UPnP
// code and why in words, the refusal coming from the real policy. docs/troubleshooting.md
// shows these lines; tests/integration/upnp_secure_mode_refuses_other_lan_host.sh and
// upnp_ipv6_pinhole.sh find them in the running daemon's log.
#include <catch2/catch.hpp>

#include <chrono>
#include <variant>

#include "igd/mapping_policy.hpp"
#include "igd/pinhole_policy.hpp"
#include "igd/refusal_reasons.hpp"

namespace gw {
namespace {

using namespace std::chrono_literals;

constexpr Instant t0 = 1'000'000ms;
constexpr Ipv4Address host_a = Ipv4Address::from_octets(192, 168, 50, 20);
constexpr Ipv4Address host_b = Ipv4Address::from_octets(192, 168, 50, 21);

IgdConfig igd_config() {
    IgdConfig config;
    config.permissions = {{true, {1024, 65535}, *Ipv4Network::parse("192.168.50.0/24"), {1024, 65535}}};
    config.per_client_limit = 1;
    return config;
}

PortMapping request(std::uint16_t external, Ipv4Address internal, std::uint16_t internal_port) {
    PortMapping m;
    m.protocol = Protocol::tcp;
    m.external = Port{external};
    m.internal = Endpoint{internal, Port{internal_port}};
    return m;
}

// The line the IGD logs when `requester` asks for `requested` and the policy refuses.
std::string refused_line(MappingPolicy& policy, const IgdConfig& config, const PortMapping& requested,
                         Ipv4Address requester) {
    auto result = policy.grant(requested, requester, 3600, t0);
    REQUIRE(std::holds_alternative<MappingRefusal>(result));
    MappingRefusal refusal = std::get<MappingRefusal>(result);
    return refusal_line("AddPortMapping from " + requester.to_string(), mapping_request_text(requested),
                        SoapFault{upnp_error_of(refusal)},
                        mapping_refusal_reason(refusal, requested, requester, config.secure_mode,
                                               policy.at_client_limit(requester, t0)));
}

}  // namespace

TEST_CASE("a mapping refused by secure mode is logged with the client, the ports, 606 and the words secure mode") {
    IgdConfig config = igd_config();
    MappingPolicy policy(config, {});
    CHECK(refused_line(policy, config, request(8080, host_b, 8080), host_a) ==
          "UPnP: AddPortMapping from 192.168.50.20 refused: TCP 8080 -> 192.168.50.21:8080: 606 Action not "
          "authorized (secure mode: a client may map only to its own address)");
}

TEST_CASE("a mapping no permission rule allows is logged as refused by upnp.permissions, not by secure mode") {
    IgdConfig config = igd_config();
    MappingPolicy policy(config, {});
    CHECK(refused_line(policy, config, request(80, host_a, 80), host_a) ==
          "UPnP: AddPortMapping from 192.168.50.20 refused: TCP 80 -> 192.168.50.20:80: 606 Action not authorized "
          "(no upnp.permissions rule allows this external port, internal address and port)");
}

TEST_CASE("a client over its own limit is told apart from a full table, and a port held by another client") {
    IgdConfig config = igd_config();
    MappingPolicy policy(config, {});
    REQUIRE(std::holds_alternative<PortMapping>(policy.grant(request(5000, host_a, 5000), host_a, 3600, t0)));
    CHECK(refused_line(policy, config, request(5001, host_a, 5001), host_a) ==
          "UPnP: AddPortMapping from 192.168.50.20 refused: TCP 5001 -> 192.168.50.20:5001: 728 "
          "NoPortMapsAvailable (the client holds upnp.per_client_limit mappings already)");
    CHECK(refused_line(policy, config, request(5000, host_b, 5000), host_b) ==
          "UPnP: AddPortMapping from 192.168.50.21 refused: TCP 5000 -> 192.168.50.21:5000: 718 "
          "ConflictInMappingEntry (another client holds this external port)");
}

TEST_CASE("a port a static forward holds is logged as such") {
    IgdConfig config = igd_config();
    MappingPolicy policy(config, {{Protocol::tcp, PortRange{3389, 3389}}});
    CHECK(refused_line(policy, config, request(3389, host_a, 3389), host_a) ==
          "UPnP: AddPortMapping from 192.168.50.20 refused: TCP 3389 -> 192.168.50.20:3389: 729 "
          "ConflictWithOtherMechanisms (a static forward (or the NAT's own port range) holds this external port)");
}

TEST_CASE("each 606 an AddPinhole earns is logged with its own reason: secure mode, a privileged port, the gateway") {
    const Ipv6Address host = *Ipv6Address::parse("2001:db8:1::20");
    const Ipv6Address other = *Ipv6Address::parse("2001:db8:1::30");
    const Ipv6Address gateway = *Ipv6Address::parse("2001:db8:1::1");
    PinholeEnvironment environment;
    environment.lan_prefixes = {*Ipv6Network::parse("2001:db8:1::/64")};
    environment.gateway_addresses = {gateway};
    PinholePolicy policy(PinholeConfig{}, true, environment);
    auto line_for = [&](const Ipv6Address& client, std::uint16_t port) {
        PinholeRequest request;
        request.internal_client = client;
        request.internal_port = port;
        request.protocol = ip_protocol_tcp;
        request.lease_seconds = 60;
        auto outcome = policy.add(request, host, t0);
        REQUIRE(std::holds_alternative<PinholeRefusal>(outcome));
        PinholeRefusal refusal = std::get<PinholeRefusal>(outcome);
        return refusal_line("AddPinhole from " + host.to_string(), pinhole_request_text(request),
                            SoapFault{upnp_error_of(refusal)},
                            pinhole_refusal_reason(refusal, request, host, true, environment.lan_prefixes,
                                                   environment.gateway_addresses));
    };
    CHECK(line_for(other, 5000) ==
          "UPnP: AddPinhole from 2001:db8:1::20 refused: TCP [2001:db8:1::30]:5000 from any: 606 Action not "
          "authorized (secure mode: a host may open pinholes only to its own address)");
    CHECK(line_for(host, 80) ==
          "UPnP: AddPinhole from 2001:db8:1::20 refused: TCP [2001:db8:1::20]:80 from any: 606 Action not "
          "authorized (secure mode: an internal port below 1024 (0 included))");
    CHECK(line_for(gateway, 5000) ==
          "UPnP: AddPinhole from 2001:db8:1::20 refused: TCP [2001:db8:1::1]:5000 from any: 606 Action not "
          "authorized (the internal client is the gateway's own address)");
}

TEST_CASE("a pinhole from one remote endpoint names it in the log line") {
    PinholeRequest request;
    request.internal_client = *Ipv6Address::parse("2001:db8:1::20");
    request.internal_port = 5000;
    request.protocol = ip_protocol_udp;
    request.remote_host = *Ipv6Address::parse("2001:db8::7");
    request.remote_port = 53;
    CHECK(pinhole_request_text(request) == "UDP [2001:db8:1::20]:5000 from [2001:db8::7]:53");
}

}  // namespace gw
