#include "igd/pinhole_file.hpp"

#include <charconv>
#include <chrono>
#include <map>
#include <set>
#include <variant>

#include "nat/text_words.hpp"

namespace gw {
namespace {

template <class Number>
std::optional<Number> parse_number(std::string_view text) {
    Number value{};
    if (text.empty() || text[0] == '-' || text[0] == '+') return std::nullopt;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::string in_quotes(std::string_view text) { return "'" + std::string(text) + "'"; }

struct SavedPinhole {
    PinholeLease lease;
    std::int64_t expires_wall = 0;
};

using LineOutcome = std::variant<SavedPinhole, std::string>;  // the pinhole, or what is wrong

std::optional<std::string> parse_field(std::string_view key, std::string_view value, SavedPinhole& saved) {
    Pinhole& p = saved.lease.pinhole;
    auto bad = [&] { return "bad " + std::string(key) + " " + in_quotes(value); };
    if (key == "proto") {
        auto n = parse_number<std::uint16_t>(value);
        if (!n) return bad();
        p.protocol = *n;
    } else if (key == "remote") {
        if (value != "*") {
            p.remote_host = Ipv6Address::parse(value);
            if (!p.remote_host) return bad();
        }
    } else if (key == "rport" || key == "iport") {
        auto n = parse_number<std::uint16_t>(value);
        if (!n) return bad();
        (key == "rport" ? p.remote_port : p.internal_port) = *n;
    } else if (key == "client" || key == "owner") {
        auto address = Ipv6Address::parse(value);
        if (!address) return bad();
        (key == "client" ? p.internal_client : saved.lease.owner) = *address;
    } else if (key == "expires") {
        auto n = parse_number<std::int64_t>(value);
        if (!n) return bad();
        saved.expires_wall = *n;
    }
    return std::nullopt;
}

LineOutcome parse_line(std::string_view line) {
    auto words = words_of(line);
    SavedPinhole saved;
    auto id = parse_number<std::uint16_t>(words.front());
    if (!id || *id == 0) return "bad UniqueID " + in_quotes(words.front());
    saved.lease.pinhole.id = *id;
    std::set<std::string_view> missing{"proto", "remote", "rport", "client", "iport", "owner", "expires"};
    for (std::size_t i = 1; i < words.size(); ++i) {
        auto eq = words[i].find('=');
        if (eq == std::string_view::npos) return "expected key=value, got " + in_quotes(words[i]);
        auto key = words[i].substr(0, eq);
        if (!missing.contains(key)) return "unknown or repeated field " + in_quotes(key);
        missing.erase(key);
        if (auto error = parse_field(key, words[i].substr(eq + 1), saved)) return *error;
    }
    if (!missing.empty()) return "missing field " + in_quotes(*missing.begin());
    return saved;
}

}  // namespace

std::string serialize_pinhole_line(const PinholeLease& lease, std::int64_t wall_clock_now_seconds, Instant engine_now) {
    const Pinhole& p = lease.pinhole;
    std::string out = std::to_string(p.id);
    out += " proto=" + std::to_string(p.protocol);
    out += " remote=" + (p.remote_host ? p.remote_host->to_string() : std::string("*"));
    out += " rport=" + std::to_string(p.remote_port);
    out += " client=" + p.internal_client.to_string();
    out += " iport=" + std::to_string(p.internal_port);
    out += " owner=" + lease.owner.to_string();
    out += " expires=" + std::to_string(wall_clock_now_seconds + remaining_seconds(lease, engine_now)) + "\n";
    return out;
}

std::string serialize_pinhole_removal(std::uint16_t id) { return "del " + std::to_string(id) + "\n"; }

std::string serialize_pinholes(const std::vector<PinholeLease>& leases, std::int64_t wall_clock_now_seconds,
                               Instant engine_now) {
    std::string out(pinhole_file_header);
    out += '\n';
    for (const auto& lease : leases)
        if (lease.expires > engine_now) out += serialize_pinhole_line(lease, wall_clock_now_seconds, engine_now);
    return out;
}

PinholeFileReadResult parse_pinholes(std::string_view text, std::int64_t wall_clock_now_seconds, Instant engine_now,
                                     std::string_view source_name) {
    PinholeFileReadResult result;
    auto report = [&](std::size_t line, const std::string& message) {
        result.errors.push_back(std::string(source_name) + ':' + std::to_string(line) + ": " + message);
    };
    bool header_seen = false;
    std::map<std::uint16_t, SavedPinhole> live;
    for (std::size_t line_number = 1; !text.empty(); ++line_number) {
        auto newline = text.find('\n');
        bool torn = newline == std::string_view::npos;  // kill -9 in the middle of an append
        auto line = text.substr(0, newline);
        text.remove_prefix(torn ? text.size() : newline + 1);
        if (line.ends_with('\r')) line.remove_suffix(1);
        if (line.find_first_not_of(' ') == std::string_view::npos || line.front() == '#') continue;
        auto fail = [&](const std::string& message) {
            report(line_number, torn ? "torn line at end of file (no newline): " + message : message);
        };
        if (!header_seen) {
            if (line != pinhole_file_header) {
                report(line_number, "not a pinhole file: expected " + in_quotes(pinhole_file_header) + " first");
                return result;
            }
            header_seen = true;
            continue;
        }
        auto words = words_of(line);
        if (words.front() == "del") {
            auto id = words.size() == 2 ? parse_number<std::uint16_t>(words[1]) : std::nullopt;
            if (!id) fail("bad removal " + in_quotes(line));
            else live.erase(*id);
            continue;
        }
        auto parsed = parse_line(line);
        if (auto* error = std::get_if<std::string>(&parsed)) {
            fail(*error);
            continue;
        }
        auto& saved = std::get<SavedPinhole>(parsed);
        live.insert_or_assign(saved.lease.pinhole.id, saved);
    }
    for (auto& [id, saved] : live) {
        auto remaining = saved.expires_wall - wall_clock_now_seconds;
        if (remaining <= 0) {
            ++result.expired;
            continue;
        }
        // A clock far off at save time must not overflow engine time; restore caps it.
        remaining = std::min<std::int64_t>(remaining, 0xffffffffLL);
        saved.lease.expires = engine_now + std::chrono::seconds(remaining);
        result.pinholes.push_back(saved.lease);
    }
    return result;
}

}  // namespace gw
