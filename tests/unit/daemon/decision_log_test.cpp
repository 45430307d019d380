#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include "base/log.hpp"
#include "daemon/decision_log.hpp"
#include "ipv6_packet_builder.hpp"
#include "packet_builder.hpp"

namespace gw::test {

TEST_CASE("a logged drop names the rule, the reason, the direction, the endpoints and the TCP flags") {
    FirewallRule rule;
    rule.name = "rdp-others";
    EngineResult result{Verdict::drop, DropReason::denied_by_rule, &rule, true};
    Packet syn = tcp(at(*Ipv4Address::parse("198.51.100.7"), 40112), at(*Ipv4Address::parse("203.0.113.1"), 3389),
                     tcp_flag::syn);
    CHECK(DecisionLog::format(result, "inbound", syn, syn.size()) ==
          "drop rule=rdp-others reason=denied_by_rule dir=inbound proto=tcp src=198.51.100.7:40112 "
          "dst=203.0.113.1:3389 flags=S len=" + std::to_string(syn.size()));
}

TEST_CASE("a default-policy drop says policy, and a snapshot shorter than the packet still shows its ports") {
    EngineResult result{Verdict::drop, DropReason::denied_by_policy, nullptr, false};
    Packet datagram = udp(at(*Ipv4Address::parse("203.0.113.2"), 5353), at(*Ipv4Address::parse("203.0.113.1"), 9),
                          std::vector<std::uint8_t>(400, 0x55));
    std::span<const std::uint8_t> head(datagram.data(), 64);
    CHECK(DecisionLog::format(result, "inbound", head, datagram.size()) ==
          "drop rule=policy reason=denied_by_policy dir=inbound proto=udp src=203.0.113.2:5353 dst=203.0.113.1:9 "
          "len=" + std::to_string(datagram.size()));
}

TEST_CASE("a flow-limit drop is logged under its own reason, so an operator sees which limit was hit") {
    EngineResult result{Verdict::drop, DropReason::embryonic_limit, nullptr, false};
    Packet syn = tcp(at(*Ipv4Address::parse("100.64.0.9"), 1033), at(*Ipv4Address::parse("203.0.113.1"), 443),
                     tcp_flag::syn);
    CHECK(DecisionLog::format(result, "inbound", syn, syn.size()) ==
          "drop rule=policy reason=embryonic_limit dir=inbound proto=tcp src=100.64.0.9:1033 dst=203.0.113.1:443 "
          "flags=S len=" + std::to_string(syn.size()));
}

TEST_CASE("an IPv6 drop is logged with bracketed addresses, its protocol and its ICMPv6 type") {
    EngineResult result{Verdict::drop, DropReason::denied_by_policy, nullptr, false};
    Packet syn = v6::tcp(v6::remote_host, 50000, v6::lan_host, 22, tcp_flag::syn);
    CHECK(DecisionLog::format(result, "inbound6", syn, syn.size()) ==
          "drop rule=policy reason=denied_by_policy dir=inbound6 proto=tcp src=[2001:db8:ff::2]:50000 "
          "dst=[2001:db8:1::10]:22 len=" + std::to_string(syn.size()));
    Packet ra = v6::icmp(v6::remote_host, v6::lan_host, v6::icmp6::router_advertisement);
    EngineResult link_scope{Verdict::drop, DropReason::icmpv6_link_scope_type, nullptr, false};
    CHECK(DecisionLog::format(link_scope, "inbound6", ra, ra.size()) ==
          "drop rule=policy reason=icmpv6_link_scope_type dir=inbound6 proto=icmpv6 src=2001:db8:ff::2 "
          "dst=2001:db8:1::10 icmp_type=134 len=48");
}

}  // namespace gw::test

namespace gw::test {

// The lines the log wrote while `record` ran, read back from a scratch file.
template <class Record>
std::string log_lines_of(Record record) {
    std::FILE* scratch = std::tmpfile();
    REQUIRE(scratch != nullptr);
    log::set_output_fd(fileno(scratch));
    record();
    log::set_output_fd(2);
    std::fflush(scratch);
    std::rewind(scratch);
    std::string text;
    for (int c; (c = std::fgetc(scratch)) != EOF;) text += char(c);
    std::fclose(scratch);
    return text;
}

std::size_t count_of(const std::string& text, std::string_view what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

TEST_CASE("a reload's new log rate limits the decision log from the next line on") {
    EngineResult result{Verdict::drop, DropReason::denied_by_policy, nullptr, false};
    Packet datagram = udp(at(*Ipv4Address::parse("203.0.113.2"), 5353), at(*Ipv4Address::parse("203.0.113.1"), 9));
    DecisionLog decisions(10);
    decisions.set_lines_per_second(2);
    CHECK(decisions.lines_per_second() == 2);
    std::string text = log_lines_of([&] {
        for (int i = 0; i < 5; ++i) decisions.record(result, "inbound", datagram, datagram.size(), t0);
        decisions.record(result, "inbound", datagram, datagram.size(), t0 + std::chrono::seconds(1));
    });
    CHECK(count_of(text, "reason=denied_by_policy") == 3);  // 2 in the first second, 1 in the next
    CHECK(count_of(text, "3 lines suppressed (over 2/s)") == 1);
}

}  // namespace gw::test
