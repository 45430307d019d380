#include "decision_log.hpp"

#include "firewall/ipv6_packet_view.hpp"

#include <cstdio>
#include <ctime>

#include "base/log.hpp"
#include "nat/packet_view.hpp"

namespace gw {
namespace {

std::string tcp_flags_text(std::uint8_t flags) {
    static constexpr std::pair<std::uint8_t, char> letters[] = {
        {wire::TcpHeader::syn, 'S'}, {wire::TcpHeader::ack, 'A'}, {wire::TcpHeader::fin, 'F'},
        {wire::TcpHeader::rst, 'R'}, {wire::TcpHeader::psh, 'P'}, {wire::TcpHeader::urg, 'U'}};
    std::string text;
    for (auto [bit, letter] : letters)
        if (flags & bit) text.push_back(letter);
    return text.empty() ? "none" : text;
}

std::string endpoint_text(Ipv4Address address, const wire::Be16* port) {
    std::string text = address.to_string();
    if (port) text += ':' + std::to_string(port->get());
    return text;
}

std::string_view verdict_word(Verdict v) {
    switch (v) {
        case Verdict::forward: return "accept";
        case Verdict::deliver_locally: return "accept";
        case Verdict::drop: return "drop";
        case Verdict::reject: return "reject";
    }
    return "drop";
}

// The wall-clock time of the decision, for lines read away from the journal.
std::string utc_timestamp() {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    std::tm utc{};
    gmtime_r(&now.tv_sec, &utc);
    char text[40];
    std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(text + n, sizeof text - n, ".%03ldZ", now.tv_nsec / 1000000);
    return text;
}

// The head is at most 128 bytes: read it as leniently as a quoted datagram.
std::string ipv6_packet_text(std::span<const std::uint8_t> head) {
    Ipv6Parse parsed = parse_quoted_ipv6(head);
    if (!parsed.view) return " proto=ipv6 malformed";
    const Ipv6PacketView& v = *parsed.view;
    const bool ports = v.has_ports && v.protocol != ipv6_protocol::icmpv6;
    std::string proto = v.protocol == 6 ? "tcp" : v.protocol == 17 ? "udp" : v.protocol == 58 ? "icmpv6"
                                                                        : std::to_string(v.protocol);
    std::string text = " proto=" + proto + " src=" + (ports ? "[" + v.source.to_string() + "]:" +
                                                                   std::to_string(v.source_port)
                                                             : v.source.to_string());
    text += " dst=" + (ports ? "[" + v.destination.to_string() + "]:" + std::to_string(v.destination_port)
                             : v.destination.to_string());
    if (v.has_icmp_header) text += " icmp_type=" + std::to_string(v.icmp_type);
    return text;
}

}  // namespace

std::string DecisionLog::format(const EngineResult& result, std::string_view direction,
                                std::span<const std::uint8_t> head, std::size_t length) {
    std::string line(verdict_word(result.verdict));
    line += " rule=";
    line += result.rule ? result.rule->name : std::string("policy");
    if (result.reason != DropReason::none) line += " reason=" + std::string(drop_reason_name(result.reason));
    line += " dir=" + std::string(direction);
    // The parser needs a writable span; it only reads here.
    std::vector<std::uint8_t> copy(head.begin(), head.end());
    if (!copy.empty() && (copy[0] >> 4) == 6) {
        line += ipv6_packet_text(head);
    } else if (copy.size() >= sizeof(wire::Ipv4Header)) {
        auto* ip = reinterpret_cast<wire::Ipv4Header*>(copy.data());
        ParseResult parsed = parse_ipv4_head(copy);
        const PacketView& p = parsed.view;
        bool ports = parsed.ok() && (p.tcp || p.udp);
        const wire::Be16* sport = !ports ? nullptr : p.tcp ? &p.tcp->source_port : &p.udp->source_port;
        const wire::Be16* dport = !ports ? nullptr : p.tcp ? &p.tcp->destination_port : &p.udp->destination_port;
        std::uint8_t protocol = ip->protocol;
        line += " proto=" + (protocol == 6 ? std::string("tcp") : protocol == 17 ? "udp" : protocol == 1 ? "icmp"
                                                                                              : std::to_string(protocol));
        line += " src=" + endpoint_text(ip->source(), sport) + " dst=" + endpoint_text(ip->destination(), dport);
        if (parsed.ok() && p.tcp) line += " flags=" + tcp_flags_text(p.tcp->flags);
        if (parsed.ok() && p.icmp) line += " icmp_type=" + std::to_string(p.icmp->type);
    }
    line += " len=" + std::to_string(length);
    return line;
}

void DecisionLog::record(const EngineResult& result, std::string_view direction,
                         std::span<const std::uint8_t> head, std::size_t length, Instant now) {
    if (now - window_start_ >= std::chrono::seconds(1)) {
        if (suppressed_ > 0)
            log::info("decision log: " + std::to_string(suppressed_) + " lines suppressed (over " +
                      std::to_string(lines_per_second_) + "/s)");
        window_start_ = now;
        lines_in_window_ = 0;
        suppressed_ = 0;
    }
    if (lines_in_window_ >= lines_per_second_) {
        ++suppressed_;
        return;
    }
    ++lines_in_window_;
    log::info(format(result, direction, head, length) + " time=" + utc_timestamp());
}

}  // namespace gw
