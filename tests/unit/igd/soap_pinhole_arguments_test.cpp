// WANIPv6FirewallControl:1 requests through the SOAP argument layer: what becomes a
// typed pinhole request, and which malformed requests are refused before the policy
// sees them (402 for anything that is not a value of its type, 401 under IGD:1).
#include <catch2/catch.hpp>

#include <string>
#include <variant>

#include "igd/soap_arguments.hpp"

namespace gw {
namespace {

SoapArguments add_pinhole() {
    return {{"RemoteHost", ""},          {"RemotePort", "0"}, {"InternalClient", "2001:db8:1::20"},
            {"InternalPort", "5000"},   {"Protocol", "17"},  {"LeaseTime", "3600"}};
}

SoapArguments with(SoapArguments arguments, const std::string& name, const std::string& value) {
    for (auto& [argument, text] : arguments)
        if (argument == name) text = value;
    return arguments;
}

ParsedAction call(std::string_view action, const SoapArguments& arguments, int version = 2) {
    return parse_action_call(igd_service(ServiceKind::wan_ipv6_firewall_control), action, arguments, version);
}

int error_code(const ParsedAction& parsed) {
    return parsed ? 0 : parsed.error().code();
}

template <class Args>
Args typed(const ParsedAction& parsed) {
    INFO("refused with " << error_code(parsed));
    REQUIRE(parsed.has_value());
    const auto& arguments = parsed.value().arguments;
    REQUIRE(std::holds_alternative<Args>(arguments));
    return std::get<Args>(arguments);
}

TEST_CASE("AddPinhole becomes a pinhole request with the addresses parsed and the wildcards as nullopt") {
    auto request = typed<PinholeRequest>(call("AddPinhole", add_pinhole()));
    CHECK_FALSE(request.remote_host);
    CHECK(request.remote_port == 0);
    CHECK(request.internal_client == Ipv6Address::parse("2001:db8:1::20"));
    CHECK(request.internal_port == 5000);
    CHECK(request.protocol == 17);
    CHECK(request.lease_seconds == 3600);

    auto narrow = typed<PinholeRequest>(
        call("AddPinhole", with(with(add_pinhole(), "RemoteHost", " 2001:DB8:FFFF::9 "), "RemotePort", "443")));
    CHECK(narrow.remote_host == Ipv6Address::parse("2001:db8:ffff::9"));
    CHECK(narrow.remote_port == 443);
}

TEST_CASE("AddPinhole: an empty InternalClient reaches the policy as a wildcard (its 708), not as 402") {
    CHECK_FALSE(typed<PinholeRequest>(call("AddPinhole", with(add_pinhole(), "InternalClient", ""))).internal_client);
}

TEST_CASE("AddPinhole: malformed values are 402 Invalid Args") {
    for (auto [name, value] : {std::pair{"InternalClient", "192.168.1.20"}, std::pair{"InternalClient", "host.lan"},
                               std::pair{"InternalClient", "fe80::1%eth0"}, std::pair{"RemoteHost", "*"},
                               std::pair{"RemoteHost", "[2001:db8::1]"}, std::pair{"RemotePort", "65536"},
                               std::pair{"InternalPort", "-1"}, std::pair{"Protocol", "TCP"},
                               std::pair{"Protocol", "65536"}, std::pair{"LeaseTime", "1h"},
                               std::pair{"LeaseTime", "4294967296"}}) {
        INFO(name << " = " << value);
        CHECK(error_code(call("AddPinhole", with(add_pinhole(), name, value))) == 402);
    }
}

TEST_CASE("AddPinhole: a missing, repeated or unknown argument is 402") {
    SoapArguments missing = add_pinhole();
    missing.pop_back();
    CHECK(error_code(call("AddPinhole", missing)) == 402);
    SoapArguments repeated = add_pinhole();
    repeated.back() = {"Protocol", "6"};
    CHECK(error_code(call("AddPinhole", repeated)) == 402);
    CHECK(error_code(call("AddPinhole", with(add_pinhole(), "LeaseTime", "0"))) == 0);  // the policy's 402
}

TEST_CASE("UpdatePinhole, DeletePinhole and the packet queries take a ui2 UniqueID") {
    auto update = typed<UpdatePinholeArgs>(call("UpdatePinhole", {{"UniqueID", "7"}, {"NewLeaseTime", "60"}}));
    CHECK(update.id == 7);
    CHECK(update.lease_seconds == 60);
    for (auto action : {"DeletePinhole", "GetPinholePackets", "CheckPinholeWorking"}) {
        INFO(action);
        CHECK(typed<PinholeIdArgs>(call(action, {{"UniqueID", "65535"}})).id == 65535);
        CHECK(error_code(call(action, {{"UniqueID", "65536"}})) == 402);
        CHECK(error_code(call(action, {{"UniqueID", ""}})) == 402);
        CHECK(error_code(call(action, {})) == 402);
    }
    CHECK(error_code(call("UpdatePinhole", {{"UniqueID", "7"}})) == 402);
}

TEST_CASE("GetOutboundPinholeTimeout takes AddPinhole's addresses without a lease; GetFirewallStatus takes none") {
    SoapArguments outbound = add_pinhole();
    outbound.pop_back();
    auto request = typed<PinholeRequest>(call("GetOutboundPinholeTimeout", outbound));
    CHECK(request.protocol == 17);
    CHECK(request.lease_seconds == 0);
    CHECK(std::holds_alternative<std::monostate>((*call("GetFirewallStatus", {})).arguments));
    CHECK(error_code(call("GetFirewallStatus", {{"FirewallEnabled", "1"}})) == 402);
}

TEST_CASE("the pinhole actions do not exist in an IGD:1: 401 Invalid Action") {
    CHECK(error_code(call("AddPinhole", add_pinhole(), 1)) == 401);
    CHECK(error_code(call("GetFirewallStatus", {}, 1)) == 401);
}

TEST_CASE("the spec's pinhole error codes carry the spec's descriptions") {
    CHECK(upnp_error_description(UpnpError::pinhole_space_exhausted) == "PinholeSpaceExhausted");
    CHECK(upnp_error_description(UpnpError::firewall_disabled) == "FirewallDisabled");
    CHECK(upnp_error_description(UpnpError::inbound_pinhole_not_allowed) == "InboundPinholeNotAllowed");
    CHECK(upnp_error_description(UpnpError::no_such_entry) == "NoSuchEntry");
    CHECK(upnp_error_description(UpnpError::protocol_not_supported) == "ProtocolNotSupported");
    CHECK(upnp_error_description(UpnpError::internal_port_wildcarding_not_allowed) ==
          "InternalPortWildcardingNotAllowed");
    CHECK(upnp_error_description(UpnpError::protocol_wildcarding_not_allowed) == "ProtocolWildcardingNotAllowed");
    CHECK(upnp_error_description(UpnpError::pinhole_wildcard_not_permitted_in_src_ip) == "WildCardNotPermittedInSrcIP");
    CHECK(upnp_error_description(UpnpError::no_traffic_received) == "NoTrafficReceived");
}

}  // namespace
}  // namespace gw
