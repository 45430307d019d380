#include "igd/pinhole_file.hpp"

#include <chrono>
#include <map>
#include <set>

#include "base/line_journal.hpp"
#include "nat/text_words.hpp"

namespace gw {
namespace {

struct SavedPinhole {
    PinholeLease lease;
    std::int64_t expires_wall = 0;
};

Expected<void> parse_field(std::string_view key, std::string_view value, SavedPinhole& saved) {
    Pinhole& p = saved.lease.pinhole;
    auto bad = [&] { return unexpected(Error{"bad " + std::string(key) + " " + in_quotes(value)}); };
    if (key == "proto") {
        auto n = whole_number<std::uint16_t>(value);
        if (!n) return bad();
        p.protocol = *n;
    } else if (key == "remote") {
        if (value != "*") {
            p.remote_host = Ipv6Address::parse(value);
            if (!p.remote_host) return bad();
        }
    } else if (key == "rport" || key == "iport") {
        auto n = whole_number<std::uint16_t>(value);
        if (!n) return bad();
        (key == "rport" ? p.remote_port : p.internal_port) = *n;
    } else if (key == "client" || key == "owner") {
        auto address = Ipv6Address::parse(value);
        if (!address) return bad();
        (key == "client" ? p.internal_client : saved.lease.owner) = *address;
    } else if (key == "expires") {
        auto n = whole_number<std::int64_t>(value);
        if (!n) return bad();
        saved.expires_wall = *n;
    }
    return {};
}

Expected<SavedPinhole> parse_line(std::string_view line) {
    auto words = words_of(line);
    SavedPinhole saved;
    auto id = whole_number<std::uint16_t>(words.front());
    if (!id || *id == 0) return unexpected(Error{"bad UniqueID " + in_quotes(words.front())});
    saved.lease.pinhole.id = *id;
    std::set<std::string_view> missing{"proto", "remote", "rport", "client", "iport", "owner", "expires"};
    for (std::size_t i = 1; i < words.size(); ++i) {
        auto eq = words[i].find('=');
        if (eq == std::string_view::npos) return unexpected(Error{"expected key=value, got " + in_quotes(words[i])});
        auto key = words[i].substr(0, eq);
        if (!missing.contains(key)) return unexpected(Error{"unknown or repeated field " + in_quotes(key)});
        missing.erase(key);
        if (auto field = parse_field(key, words[i].substr(eq + 1), saved); !field)
            return unexpected(std::move(field).error());
    }
    if (!missing.empty()) return unexpected(Error{"missing field " + in_quotes(*missing.begin())});
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
    std::map<std::uint16_t, SavedPinhole> live;
    auto read_line = [&](std::string_view line) -> Expected<void> {
        auto words = words_of(line);
        if (words.front() == "del") {
            auto id = words.size() == 2 ? whole_number<std::uint16_t>(words[1]) : std::nullopt;
            if (!id) return unexpected(Error{"bad removal " + in_quotes(line)});
            live.erase(*id);
            return {};
        }
        auto saved = parse_line(line);
        if (!saved) return unexpected(std::move(saved).error());
        live.insert_or_assign(saved->lease.pinhole.id, *saved);
        return {};
    };
    result.errors = read_line_journal(text, {pinhole_file_header, "pinhole file"}, source_name, read_line).errors;
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
