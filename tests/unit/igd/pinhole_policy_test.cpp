// The pinhole policy as LAN clients meet it through WANIPv6FirewallControl:1: which
// AddPinhole/UpdatePinhole/DeletePinhole requests are granted, and which error code each
// refusal earns (spec section 2.4), UniqueIDs, leases, wildcards, owners and limits.
#include <catch2/catch.hpp>

#include <chrono>
#include <set>
#include <variant>

#include "igd/pinhole_policy.hpp"

namespace gw {
namespace {

using namespace std::chrono_literals;

const Ipv6Address host_a = *Ipv6Address::parse("2001:db8:1::20");
const Ipv6Address host_b = *Ipv6Address::parse("2001:db8:1::30");
const Ipv6Address gateway_lan = *Ipv6Address::parse("2001:db8:1::1");
const Instant start{1'000'000};

PinholeEnvironment lab_network() {
    PinholeEnvironment environment;
    environment.lan_prefixes = {*Ipv6Network::parse("2001:db8:1::/64")};
    environment.gateway_addresses = {gateway_lan};
    environment.outbound_tcp_seconds = 7440;
    environment.outbound_udp_seconds = 300;
    return environment;
}

PinholeConfig defaults() { return PinholeConfig{}; }

// What a game console would ask: TCP from anywhere to its own port 5000, for an hour.
PinholeRequest request_for(const Ipv6Address& client, std::uint16_t port = 5000) {
    PinholeRequest request;
    request.internal_client = client;
    request.internal_port = port;
    request.protocol = ip_protocol_tcp;
    request.lease_seconds = 3600;
    return request;
}

PinholeRequest changed(PinholeRequest request, auto PinholeRequest::*field, auto value) {
    request.*field = value;
    return request;
}

int code_of(const PinholeOutcome& outcome) {
    auto* refusal = std::get_if<PinholeRefusal>(&outcome);
    return refusal ? int(upnp_error_of(*refusal)) : 0;
}

PinholeLease granted(const PinholeOutcome& outcome) {
    INFO("refused with " << code_of(outcome));
    REQUIRE(std::holds_alternative<PinholeLease>(outcome));
    return std::get<PinholeLease>(outcome);
}

TEST_CASE("a host opens a pinhole to its own address and gets a UniqueID and the lease it asked for") {
    PinholePolicy policy(defaults(), true, lab_network());
    auto lease = granted(policy.add(request_for(host_a), host_a, start));
    CHECK(lease.pinhole.id == 1);
    CHECK(lease.pinhole.internal_client == host_a);
    CHECK(lease.pinhole.internal_port == 5000);
    CHECK(lease.pinhole.protocol == ip_protocol_tcp);
    CHECK_FALSE(lease.pinhole.remote_host);
    CHECK(lease.owner == host_a);
    CHECK(remaining_seconds(lease, start) == 3600);
    CHECK(policy.size() == 1);
    CHECK(policy.all() == std::vector{lease});
}

TEST_CASE("UniqueIDs are distinct, round-robin, and never reused while the pinhole is stored") {
    PinholeConfig config;
    config.per_client_limit = config.max_pinholes = max_policy_pinhole_id;
    PinholePolicy policy(config, true, lab_network());
    auto first = granted(policy.add(request_for(host_a, 5000), host_a, start));
    auto second = granted(policy.add(request_for(host_a, 5001), host_a, start));
    CHECK(second.pinhole.id == first.pinhole.id + 1);
    // Deleting the first does not hand its id out again at once.
    REQUIRE(std::holds_alternative<PinholeLease>(policy.remove(first.pinhole.id, host_a, start)));
    auto third = granted(policy.add(request_for(host_a, 5002), host_a, start));
    CHECK(third.pinhole.id == second.pinhole.id + 1);
    // A lease that is over keeps its id until expire() returned it.
    auto short_lived = granted(policy.add(changed(request_for(host_a, 5003), &PinholeRequest::lease_seconds, 1u),
                                          host_a, start));
    std::set<std::uint16_t> ids{second.pinhole.id, third.pinhole.id, short_lived.pinhole.id};
    for (std::uint16_t port = 6000; port < 6100; ++port) {
        auto later = granted(policy.add(request_for(host_a, port), host_a, start + 2s));
        CHECK(ids.insert(later.pinhole.id).second);
    }
}

TEST_CASE("UniqueIDs wrap after 32767 (the ids above are gatewayctl's) to 1 and skip the ones in use") {
    PinholePolicy policy(defaults(), false, lab_network());
    PinholeLease high{{}, host_a, start + 3600s}, low = high;
    high.pinhole = {max_policy_pinhole_id - 1, std::nullopt, 0, host_a, 5000, ip_protocol_tcp};
    low.pinhole = {1, std::nullopt, 0, host_a, 5001, ip_protocol_tcp};
    REQUIRE(policy.restore({high, low}, start).restored == 2);
    CHECK(granted(policy.add(request_for(host_a, 6000), host_a, start)).pinhole.id == max_policy_pinhole_id);
    CHECK(granted(policy.add(request_for(host_a, 6001), host_a, start)).pinhole.id == 2);
}

TEST_CASE("LeaseTime outside 1..86400 is 402, in AddPinhole and UpdatePinhole") {
    PinholePolicy policy(defaults(), true, lab_network());
    CHECK(code_of(policy.add(changed(request_for(host_a), &PinholeRequest::lease_seconds, 0u), host_a, start)) == 402);
    CHECK(code_of(policy.add(changed(request_for(host_a), &PinholeRequest::lease_seconds, 86401u), host_a, start)) ==
          402);
    auto lease = granted(policy.add(changed(request_for(host_a), &PinholeRequest::lease_seconds, 86400u), host_a, start));
    CHECK(remaining_seconds(lease, start) == 86400);
    CHECK(code_of(policy.update(lease.pinhole.id, 0, host_a, start)) == 402);
    CHECK(code_of(policy.update(lease.pinhole.id, 86401, host_a, start)) == 402);
}

TEST_CASE("an empty or unspecified InternalClient is a wildcard: 708 WildCardNotPermittedInSrcIP") {
    PinholePolicy policy(defaults(), false, lab_network());
    PinholeRequest request = request_for(host_a);
    request.internal_client.reset();
    CHECK(code_of(policy.add(request, host_a, start)) == 708);
    request.internal_client = Ipv6Address();
    CHECK(code_of(policy.add(request, host_a, start)) == 708);
}

TEST_CASE("link-local, multicast, loopback and IPv4-mapped internal clients are refused 402") {
    PinholePolicy policy(defaults(), false, lab_network());
    for (const char* text : {"fe80::20", "ff02::1", "::1", "::ffff:192.168.1.20"}) {
        INFO(text);
        CHECK(code_of(policy.add(request_for(*Ipv6Address::parse(text)), host_a, start)) == 402);
    }
    PinholeRequest multicast_remote = request_for(host_a);
    multicast_remote.remote_host = Ipv6Address::parse("ff0e::1");
    CHECK(code_of(policy.add(multicast_remote, host_a, start)) == 402);
}

TEST_CASE("the gateway's own address and addresses off the LAN prefixes are not for a LAN client: 606") {
    PinholePolicy policy(defaults(), false, lab_network());
    CHECK(code_of(policy.add(request_for(gateway_lan), host_a, start)) == 606);
    CHECK(code_of(policy.add(request_for(*Ipv6Address::parse("2001:db8:2::20")), host_a, start)) == 606);
    PinholePolicy no_ipv6_lan(defaults(), false, PinholeEnvironment{});
    CHECK(code_of(no_ipv6_lan.add(request_for(host_a), host_a, start)) == 606);
}

TEST_CASE("only TCP and UDP are supported (705); the protocol wildcard 65535 is 707 unless allowed") {
    PinholePolicy policy(defaults(), true, lab_network());
    CHECK(code_of(policy.add(changed(request_for(host_a), &PinholeRequest::protocol, std::uint16_t(50)), host_a,
                             start)) == 705);
    CHECK(code_of(policy.add(changed(request_for(host_a), &PinholeRequest::protocol, any_ip_protocol), host_a,
                             start)) == 707);
    auto udp = granted(policy.add(changed(request_for(host_a), &PinholeRequest::protocol, ip_protocol_udp), host_a,
                                  start));
    CHECK(udp.pinhole.protocol == ip_protocol_udp);
    PinholeConfig config;
    config.allow_protocol_wildcard = true;
    PinholePolicy permissive(config, true, lab_network());
    auto any = granted(permissive.add(changed(request_for(host_a), &PinholeRequest::protocol, any_ip_protocol), host_a,
                                      start));
    CHECK(any.pinhole.protocol == any_ip_protocol);
}

TEST_CASE("InternalPort 0 is 706 unless allowed, and never in secure mode") {
    PinholePolicy policy(defaults(), false, lab_network());
    CHECK(code_of(policy.add(request_for(host_a, 0), host_a, start)) == 706);
    PinholeConfig config;
    config.allow_internal_port_wildcard = true;
    PinholePolicy permissive(config, false, lab_network());
    CHECK(granted(permissive.add(request_for(host_a, 0), host_a, start)).pinhole.internal_port == 0);
    PinholePolicy secure(config, true, lab_network());
    CHECK(code_of(secure.add(request_for(host_a, 0), host_a, start)) == 606);
}

TEST_CASE("remote host and remote port wildcards are granted as any; :: as RemoteHost means any too") {
    PinholePolicy policy(defaults(), true, lab_network());
    PinholeRequest request = request_for(host_a);
    request.remote_host = Ipv6Address();
    auto any = granted(policy.add(request, host_a, start));
    CHECK_FALSE(any.pinhole.remote_host);
    CHECK(any.pinhole.remote_port == 0);
    request.remote_host = Ipv6Address::parse("2001:db8:ffff::9");
    request.remote_port = 443;
    auto narrow = granted(policy.add(request, host_a, start));
    CHECK(narrow.pinhole.remote_host == Ipv6Address::parse("2001:db8:ffff::9"));
    CHECK(narrow.pinhole.remote_port == 443);
    CHECK(narrow.pinhole.id != any.pinhole.id);
}

TEST_CASE("secure mode: a host may open pinholes only to its own address and to ports from 1024") {
    PinholePolicy policy(defaults(), true, lab_network());
    CHECK(code_of(policy.add(request_for(host_b), host_a, start)) == 606);
    CHECK(code_of(policy.add(request_for(host_a, 80), host_a, start)) == 606);
    CHECK(granted(policy.add(request_for(host_a, 1024), host_a, start)).pinhole.internal_port == 1024);
}

TEST_CASE("secure mode: from its link-local address a host opens pinholes for its addresses with the same interface id") {
    PinholePolicy policy(defaults(), true, lab_network());
    Ipv6Address slaac = *Ipv6Address::parse("2001:db8:1::a8bb:ccff:fedd:eeff");
    Ipv6Address link_local = *Ipv6Address::parse("fe80::a8bb:ccff:fedd:eeff");
    CHECK(granted(policy.add(request_for(slaac), link_local, start)).owner == link_local);
    CHECK(code_of(policy.add(request_for(host_a), link_local, start)) == 606);  // another interface id
    // Only a link-local requester stands for its interface id: a global one is just itself.
    CHECK(code_of(policy.add(request_for(slaac, 6000), *Ipv6Address::parse("2001:db8:2::a8bb:ccff:fedd:eeff"),
                             start)) == 606);
}

TEST_CASE("secure mode refuses a request that came over IPv4 (the host's IPv6 address cannot be told): 606") {
    PinholePolicy policy(defaults(), true, lab_network());
    Ipv6Address ipv4_requester = v4_mapped(*Ipv4Address::parse("192.168.1.20"));
    CHECK(ipv4_requester.to_string() == "::ffff:192.168.1.20");
    CHECK(code_of(policy.add(request_for(host_a), ipv4_requester, start)) == 606);
}

TEST_CASE("outside secure mode an IPv4 or IPv6 LAN host may open a pinhole to another LAN host, and owns it") {
    PinholePolicy policy(defaults(), false, lab_network());
    Ipv6Address ipv4_requester = v4_mapped(*Ipv4Address::parse("192.168.1.20"));
    auto lease = granted(policy.add(request_for(host_b, 80), ipv4_requester, start));
    CHECK(lease.owner == ipv4_requester);
    CHECK(code_of(policy.update(lease.pinhole.id, 60, host_b, start)) == 606);  // the internal client is no owner
    CHECK(granted(policy.update(lease.pinhole.id, 60, ipv4_requester, start)).pinhole == lease.pinhole);
}

TEST_CASE("asking again for the same pinhole extends it and returns the same UniqueID") {
    PinholePolicy policy(defaults(), false, lab_network());
    auto first = granted(policy.add(request_for(host_a), host_a, start));
    auto again = granted(policy.add(changed(request_for(host_a), &PinholeRequest::lease_seconds, 7200u), host_a,
                                    start + 10s));
    CHECK(again.pinhole.id == first.pinhole.id);
    CHECK(remaining_seconds(again, start + 10s) == 7200);
    CHECK(policy.size() == 1);
    // The same tuple asked by another requester is not theirs to extend.
    CHECK(code_of(policy.add(request_for(host_a), host_b, start + 10s)) == 606);
}

TEST_CASE("UpdatePinhole, DeletePinhole and the packet queries are the owner's only (606), 704 for unknown ids") {
    PinholePolicy policy(defaults(), true, lab_network());
    auto lease = granted(policy.add(request_for(host_a), host_a, start));
    std::uint16_t id = lease.pinhole.id;
    CHECK(code_of(policy.update(id, 60, host_b, start)) == 606);
    CHECK(code_of(policy.remove(id, host_b, start)) == 606);
    CHECK(code_of(policy.owned(id, host_b, start)) == 606);
    CHECK(code_of(policy.update(999, 60, host_a, start)) == 704);
    CHECK(code_of(policy.remove(999, host_a, start)) == 704);
    CHECK(code_of(policy.owned(0, host_a, start)) == 704);
    auto renewed = granted(policy.update(id, 60, host_a, start + 5s));
    CHECK(remaining_seconds(renewed, start + 5s) == 60);
    CHECK(granted(policy.owned(id, host_a, start)).pinhole == lease.pinhole);
    CHECK(granted(policy.remove(id, host_a, start)).pinhole == lease.pinhole);
    CHECK(code_of(policy.remove(id, host_a, start)) == 704);
    CHECK(policy.size() == 0);
}

TEST_CASE("a pinhole whose lease is over is gone for every query (704) and expire returns it to be closed") {
    PinholePolicy policy(defaults(), true, lab_network());
    auto lease = granted(policy.add(changed(request_for(host_a), &PinholeRequest::lease_seconds, 30u), host_a, start));
    auto other = granted(policy.add(request_for(host_a, 6000), host_a, start));
    CHECK(policy.next_expiry() == start + 30s);
    CHECK(policy.expire(start + 29s).empty());
    CHECK(granted(policy.owned(lease.pinhole.id, host_a, start + 29'999ms)).pinhole.id == lease.pinhole.id);
    CHECK(code_of(policy.owned(lease.pinhole.id, host_a, start + 30s)) == 704);
    CHECK(code_of(policy.update(lease.pinhole.id, 60, host_a, start + 30s)) == 704);
    auto ended = policy.expire(start + 30s);
    REQUIRE(ended.size() == 1);
    CHECK(ended.front().pinhole == lease.pinhole);
    CHECK(policy.size() == 1);
    CHECK(policy.next_expiry() == other.expires);
    CHECK(policy.expire(start + 3600s).size() == 1);
    CHECK_FALSE(policy.next_expiry());
}

TEST_CASE("the per-client limit and the global limit are 701 PinholeSpaceExhausted; ended leases free them") {
    PinholeConfig config;
    config.per_client_limit = 2;
    config.max_pinholes = 3;
    PinholePolicy policy(config, false, lab_network());
    granted(policy.add(changed(request_for(host_a, 5000), &PinholeRequest::lease_seconds, 10u), host_a, start));
    granted(policy.add(request_for(host_a, 5001), host_a, start));
    CHECK(code_of(policy.add(request_for(host_a, 5002), host_a, start)) == 701);
    granted(policy.add(request_for(host_b, 5000), host_b, start));
    CHECK(code_of(policy.add(request_for(host_b, 5001), host_b, start)) == 701);  // 3 in all
    // The first lease is over: it counts for nothing even before expire() collects it.
    granted(policy.add(request_for(host_a, 5002), host_a, start + 10s));
}

TEST_CASE("FirewallEnabled false answers every pinhole action 702; InboundPinholeAllowed false refuses opening 703") {
    PinholeConfig disabled;
    disabled.enabled = false;
    PinholePolicy off(disabled, true, lab_network());
    CHECK_FALSE(off.firewall_enabled());
    CHECK_FALSE(off.inbound_allowed());
    CHECK(code_of(off.add(request_for(host_a), host_a, start)) == 702);
    CHECK(code_of(off.update(1, 60, host_a, start)) == 702);
    CHECK(code_of(off.remove(1, host_a, start)) == 702);
    CHECK(code_of(off.owned(1, host_a, start)) == 702);
    CHECK(std::get<PinholeRefusal>(off.outbound_timeout(ip_protocol_tcp)) == PinholeRefusal::firewall_disabled);

    PinholeConfig closed;
    closed.allow_inbound = false;
    PinholePolicy no_inbound(closed, true, lab_network());
    CHECK(no_inbound.firewall_enabled());
    CHECK_FALSE(no_inbound.inbound_allowed());
    CHECK(code_of(no_inbound.add(request_for(host_a), host_a, start)) == 703);
    CHECK(code_of(no_inbound.update(1, 60, host_a, start)) == 703);
    CHECK(code_of(no_inbound.remove(1, host_a, start)) == 704);  // deleting stays possible
}

TEST_CASE("CheckPinholeWorking: no packet let in is 709 NoTrafficReceived") {
    CHECK(PinholePolicy::working_verdict(0) == PinholeRefusal::no_traffic_received);
    CHECK(int(upnp_error_of(PinholeRefusal::no_traffic_received)) == 709);
    CHECK_FALSE(PinholePolicy::working_verdict(1));
}

TEST_CASE("GetOutboundPinholeTimeout answers the firewall's idle timeout of the protocol; others are 705") {
    PinholePolicy policy(defaults(), true, lab_network());
    CHECK(std::get<std::uint32_t>(policy.outbound_timeout(ip_protocol_tcp)) == 7440);
    CHECK(std::get<std::uint32_t>(policy.outbound_timeout(ip_protocol_udp)) == 300);
    CHECK(std::get<std::uint32_t>(policy.outbound_timeout(any_ip_protocol)) == 300);
    CHECK(std::get<PinholeRefusal>(policy.outbound_timeout(1)) == PinholeRefusal::protocol_not_supported);
}

TEST_CASE("restore takes saved pinholes back with their UniqueIDs and refuses what the policy no longer allows") {
    PinholeConfig config;
    config.per_client_limit = 2;
    PinholePolicy before(config, false, lab_network());
    auto kept = granted(before.add(request_for(host_a, 5000), host_a, start));
    auto second = granted(before.add(request_for(host_a, 5001), host_a, start));
    auto ended = granted(before.add(changed(request_for(host_b), &PinholeRequest::lease_seconds, 5u), host_b, start));
    std::vector<PinholeLease> saved = before.all();
    PinholeLease foreign = kept;
    foreign.pinhole.id = 77;
    foreign.pinhole.internal_client = *Ipv6Address::parse("2001:db8:9::1");  // no longer on the LAN
    saved.push_back(foreign);

    PinholePolicy after(config, false, lab_network());
    auto report = after.restore(saved, start + 10s);
    CHECK(report.restored == 2);
    CHECK(report.expired == 1);
    REQUIRE(report.refused.size() == 1);
    CHECK(report.refused.front().second == PinholeRefusal::action_not_authorized);
    CHECK(granted(after.owned(kept.pinhole.id, host_a, start + 10s)).pinhole == kept.pinhole);
    CHECK(granted(after.owned(second.pinhole.id, host_a, start + 10s)).pinhole == second.pinhole);
    CHECK(code_of(after.owned(ended.pinhole.id, host_b, start + 10s)) == 704);
    // New pinholes get ids after the restored ones, and the restored count for the limit.
    CHECK(code_of(after.add(request_for(host_a, 5002), host_a, start + 10s)) == 701);
    CHECK(granted(after.add(request_for(host_b), host_b, start + 10s)).pinhole.id > second.pinhole.id);
    // A secure-mode restart refuses what the owner could not ask for now.
    PinholePolicy secure(config, true, lab_network());
    CHECK(secure.restore({kept}, start).refused.empty());
    PinholeLease others = kept;
    others.pinhole.id = 9;
    others.owner = host_b;
    CHECK(PinholePolicy(config, true, lab_network()).restore({others}, start).refused.size() == 1);
}

}  // namespace
}  // namespace gw
