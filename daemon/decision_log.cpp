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

// One part of a decision line: its key on the line ("dir") and in the journal ("DIRECTION").
struct Part {
    std::string_view key;
    std::string_view journal_name;
    std::string value;
};

// The head is at most 128 bytes: read it as leniently as a quoted datagram.
void add_ipv6_parts(std::span<const std::uint8_t> head, std::vector<Part>& parts) {
    Ipv6Parse parsed = parse_quoted_ipv6(head);
    if (!parsed.view) {
        parts.push_back({"proto", "PROTO", "ipv6-malformed"});
        return;
    }
    const Ipv6PacketView& v = *parsed.view;
    const bool ports = v.has_ports && v.protocol != ipv6_protocol::icmpv6;
    std::string proto = v.protocol == 6 ? "tcp" : v.protocol == 17 ? "udp" : v.protocol == 58 ? "icmpv6"
                                                                        : std::to_string(v.protocol);
    parts.push_back({"proto", "PROTO", proto});
    parts.push_back({"src", "SRC", ports ? "[" + v.source.to_string() + "]:" + std::to_string(v.source_port)
                                         : v.source.to_string()});
    parts.push_back({"dst", "DST", ports ? "[" + v.destination.to_string() + "]:" + std::to_string(v.destination_port)
                                         : v.destination.to_string()});
    if (v.has_icmp_header) parts.push_back({"icmp_type", "ICMP_TYPE", std::to_string(v.icmp_type)});
}

void add_ipv4_parts(std::span<const std::uint8_t> head, std::vector<Part>& parts) {
    // The parser needs a writable span; it only reads here.
    std::vector<std::uint8_t> copy(head.begin(), head.end());
    if (copy.size() < sizeof(wire::Ipv4Header)) return;
    auto* ip = reinterpret_cast<wire::Ipv4Header*>(copy.data());
    ParseResult parsed = parse_ipv4_head(copy);
    const PacketView& p = parsed.view;
    bool ports = parsed.ok() && (p.tcp || p.udp);
    const wire::Be16* sport = !ports ? nullptr : p.tcp ? &p.tcp->source_port : &p.udp->source_port;
    const wire::Be16* dport = !ports ? nullptr : p.tcp ? &p.tcp->destination_port : &p.udp->destination_port;
    std::uint8_t protocol = ip->protocol;
    parts.push_back({"proto", "PROTO", protocol == 6    ? std::string("tcp")
                                       : protocol == 17 ? "udp"
                                       : protocol == 1  ? "icmp"
                                                        : std::to_string(protocol)});
    parts.push_back({"src", "SRC", endpoint_text(ip->source(), sport)});
    parts.push_back({"dst", "DST", endpoint_text(ip->destination(), dport)});
    if (parsed.ok() && p.tcp) parts.push_back({"flags", "TCP_FLAGS", tcp_flags_text(p.tcp->flags)});
    if (parsed.ok() && p.icmp) parts.push_back({"icmp_type", "ICMP_TYPE", std::to_string(p.icmp->type)});
}

// The decision's parts, in the line's order after the verdict word.
std::vector<Part> decision_parts(const EngineResult& result, std::string_view direction,
                                 std::span<const std::uint8_t> head, std::size_t length) {
    std::vector<Part> parts;
    parts.push_back({"rule", "RULE", result.rule ? result.rule->name : std::string("policy")});
    if (result.reason != DropReason::none)
        parts.push_back({"reason", "REASON", std::string(drop_reason_name(result.reason))});
    parts.push_back({"dir", "DIRECTION", std::string(direction)});
    if (!head.empty() && (head[0] >> 4) == 6) add_ipv6_parts(head, parts);
    else add_ipv4_parts(head, parts);
    parts.push_back({"len", "LENGTH", std::to_string(length)});
    return parts;
}

std::string line_of(Verdict verdict, const std::vector<Part>& parts) {
    std::string line(verdict_word(verdict));
    for (const Part& part : parts) {
        line += ' ';
        line += part.key;
        line += '=';
        line += part.value;
    }
    return line;
}

}  // namespace

std::string DecisionLog::format(const EngineResult& result, std::string_view direction,
                                std::span<const std::uint8_t> head, std::size_t length) {
    return line_of(result.verdict, decision_parts(result, direction, head, length));
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
    std::vector<Part> parts = decision_parts(result, direction, head, length);
    // In the journal each part is a field of its own (journalctl RULE=no-smtp-out), and
    // the entry has its own time.
    std::vector<log::Field> fields;
    fields.reserve(parts.size() + 1);
    fields.push_back({"ACTION", std::string(verdict_word(result.verdict))});
    for (const Part& part : parts) fields.push_back({part.journal_name, part.value});
    log::write(log::Level::info, line_of(result.verdict, parts) + " time=" + utc_timestamp(), fields);
}

}  // namespace gw
