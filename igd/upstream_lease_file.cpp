#include "igd/upstream_lease_file.hpp"

#include <charconv>
#include <map>

#include "base/line_journal.hpp"

namespace gw {
namespace {

constexpr std::string_view hex_digits = "0123456789abcdef";

std::optional<Port> parse_port(std::string_view text) {
    auto n = whole_number<std::uint32_t>(text);
    if (!n || *n == 0 || *n > 65535) return std::nullopt;
    return Port{std::uint16_t(*n)};
}

std::optional<PcpNonce> parse_nonce(std::string_view text) {
    PcpNonce nonce{};
    if (text.size() != 2 * nonce.size()) return std::nullopt;
    for (std::size_t i = 0; i < nonce.size(); ++i) {
        unsigned byte = 0;
        auto [end, ec] = std::from_chars(text.data() + 2 * i, text.data() + 2 * i + 2, byte, 16);
        if (ec != std::errc() || end != text.data() + 2 * i + 2) return std::nullopt;
        nonce[i] = std::uint8_t(byte);
    }
    return nonce;
}

// upstream_protocol_name()'s words, kept here too: the file's format must not follow a
// display name that may change.
std::string_view via_word(UpstreamProtocol via) {
    switch (via) {
        case UpstreamProtocol::pcp: return "pcp";
        case UpstreamProtocol::natpmp: return "natpmp";
        case UpstreamProtocol::upnp: return "upnp";
    }
    return "pcp";
}

std::vector<std::string_view> words_of(std::string_view line) {
    std::vector<std::string_view> words;
    while (!line.empty()) {
        auto space = line.find(' ');
        if (space != 0) words.push_back(line.substr(0, space));
        if (space == std::string_view::npos) break;
        line.remove_prefix(space + 1);
    }
    return words;
}

Expected<void> parse_field(std::string_view key, std::string_view value, UpstreamGrant& grant) {
    if (key == "via") {
        if (value == "pcp") grant.via = UpstreamProtocol::pcp;
        else if (value == "natpmp") grant.via = UpstreamProtocol::natpmp;
        else if (value == "upnp") grant.via = UpstreamProtocol::upnp;
        else return unexpected(Error{"bad via " + in_quotes(value)});
    } else if (key == "external") {
        auto colon = value.rfind(':');
        auto address = colon == std::string_view::npos ? std::nullopt : Ipv4Address::parse(value.substr(0, colon));
        auto port = colon == std::string_view::npos ? std::nullopt : parse_port(value.substr(colon + 1));
        if (!address || !port) return unexpected(Error{"bad external " + in_quotes(value)});
        grant.external_address = *address;
        grant.external_port = *port;
    } else if (key == "lifetime") {
        auto seconds = whole_number<std::uint32_t>(value);
        if (!seconds) return unexpected(Error{"bad lifetime " + in_quotes(value)});
        grant.lifetime = std::chrono::seconds(*seconds);
    } else if (key == "nonce") {
        grant.nonce = parse_nonce(value);
        if (!grant.nonce) return unexpected(Error{"bad nonce " + in_quotes(value) + " (24 hex digits)"});
    } else {
        return unexpected(Error{"unknown field " + in_quotes(key)});
    }
    return {};
}

Expected<std::pair<CarriedKey, UpstreamGrant>> parse_line(std::string_view line) {
    auto words = words_of(line);
    if (words.size() < 2) return unexpected(Error{"expected PROTOCOL PORT via=... external=..."});
    CarriedKey key;
    if (words[0] == "tcp") key.protocol = Protocol::tcp;
    else if (words[0] == "udp") key.protocol = Protocol::udp;
    else return unexpected(Error{"bad protocol " + in_quotes(words[0])});
    auto port = parse_port(words[1]);
    if (!port) return unexpected(Error{"bad port " + in_quotes(words[1])});
    key.port = *port;
    UpstreamGrant grant;
    bool via = false, external = false;
    for (std::size_t i = 2; i < words.size(); ++i) {
        auto eq = words[i].find('=');
        if (eq == std::string_view::npos) return unexpected(Error{"expected key=value, got " + in_quotes(words[i])});
        auto name = words[i].substr(0, eq);
        if (auto field = parse_field(name, words[i].substr(eq + 1), grant); !field) return unexpected(field.error());
        via = via || name == "via";
        external = external || name == "external";
    }
    if (!via || !external) return unexpected(Error{std::string("missing field ") + (via ? "'external'" : "'via'")});
    return std::pair{key, grant};
}

}  // namespace

std::string upstream_file_path(const std::string& lease_file) { return lease_file + ".upstream"; }

std::string serialize_upstream_halves(const std::vector<std::pair<CarriedKey, UpstreamGrant>>& halves) {
    std::string out(upstream_file_header);
    out += '\n';
    for (const auto& [key, grant] : halves) {
        out += std::string(protocol_name(key.protocol)) + ' ' + std::to_string(key.port.value);
        out += " via=" + std::string(via_word(grant.via));
        out += " external=" + grant.external_address.to_string() + ':' + std::to_string(grant.external_port.value);
        out += " lifetime=" + std::to_string(grant.lifetime.count());
        if (grant.nonce) {
            out += " nonce=";
            for (auto byte : *grant.nonce) {
                out += hex_digits[byte >> 4];
                out += hex_digits[byte & 0xf];
            }
        }
        out += '\n';
    }
    return out;
}

UpstreamFileReadResult parse_upstream_halves(std::string_view text, std::string_view source_name) {
    UpstreamFileReadResult result;
    std::map<CarriedKey, UpstreamGrant> halves;
    auto read_line = [&](std::string_view line) -> Expected<void> {
        auto parsed = parse_line(line);
        if (!parsed) return unexpected(parsed.error());
        halves.insert_or_assign(parsed->first, parsed->second);
        return {};
    };
    LineJournalRead read = read_line_journal(text, {upstream_file_header, "upstream file"}, source_name, read_line);
    result.errors = std::move(read.errors);
    result.halves.assign(halves.begin(), halves.end());
    return result;
}

}  // namespace gw
