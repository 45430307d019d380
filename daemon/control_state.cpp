#include "control_state.hpp"

#include <charconv>
#include <optional>
#include <sstream>

#include "base/line_journal.hpp"
#include "nat/text_words.hpp"

namespace gw {
namespace {

constexpr std::string_view hex = "0123456789ABCDEF";

std::string escaped_name(std::string_view name) {
    std::string out;
    for (char c : name) {
        auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte == 0x7f || c == '%') {
            out += '%';
            out += hex[byte >> 4];
            out += hex[byte & 0xf];
        } else {
            out += c;
        }
    }
    return out;
}

std::optional<std::string> unescaped_name(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        unsigned value = 0;
        if (i + 2 >= text.size()) return std::nullopt;
        auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
        if (ec != std::errc() || end != text.data() + i + 3) return std::nullopt;
        out += char(value);
        i += 2;
    }
    if (out.empty()) return std::nullopt;
    return out;
}

std::optional<Port> port(std::string_view text) {
    auto n = whole_number<std::uint32_t>(text);
    if (!n || *n == 0 || *n > 65535) return std::nullopt;
    return Port{std::uint16_t(*n)};
}

// One line into `state`.
Expected<void> read_line(const std::vector<std::string_view>& w, ControlState& state) {
    if (w[0] == "timed") {
        if (w.size() != 6) return unexpected(Error{"a timed line is: timed NAME tcp|udp PORT ADDRESS:PORT expires=UNIX_SECONDS"});
        ControlState::Timed t;
        auto name = unescaped_name(w[1]);
        if (!name) return unexpected(Error{"bad name '" + std::string(w[1]) + "'"});
        t.name = *name;
        if (w[2] == "tcp") t.protocol = Protocol::tcp;
        else if (w[2] == "udp") t.protocol = Protocol::udp;
        else return unexpected(Error{"bad protocol '" + std::string(w[2]) + "'"});
        auto external = port(w[3]);
        if (!external) return unexpected(Error{"bad port '" + std::string(w[3]) + "'"});
        t.external = *external;
        auto colon = w[4].rfind(':');
        auto address = colon == std::string_view::npos ? std::nullopt : Ipv4Address::parse(w[4].substr(0, colon));
        auto internal_port = colon == std::string_view::npos ? std::nullopt : port(w[4].substr(colon + 1));
        if (!address || !internal_port) return unexpected(Error{"bad internal endpoint '" + std::string(w[4]) + "'"});
        t.internal = {*address, *internal_port};
        auto expires = w[5].substr(0, 8) == "expires=" ? whole_number<std::int64_t>(w[5].substr(8)) : std::nullopt;
        if (!expires) return unexpected(Error{"bad expiry '" + std::string(w[5]) + "'"});
        t.expires_unix = *expires;
        state.timed.push_back(t);
        return {};
    }
    if (w[0] == "switched") {
        if (w.size() != 3 || (w[2] != "enabled" && w[2] != "disabled"))
            return unexpected(Error{"a switched line is: switched NAME enabled|disabled"});
        auto name = unescaped_name(w[1]);
        if (!name) return unexpected(Error{"bad name '" + std::string(w[1]) + "'"});
        state.switched.push_back({*name, w[2] == "enabled"});
        return {};
    }
    return unexpected(Error{"unknown line kind '" + std::string(w[0]) + "'"});
}

}  // namespace

std::string serialize_control_state(const ControlState& state) {
    std::ostringstream out;
    out << control_state_header << '\n';
    for (const auto& t : state.timed)
        out << "timed " << escaped_name(t.name) << ' ' << protocol_name(t.protocol) << ' ' << t.external.value << ' '
            << to_string(t.internal) << " expires=" << t.expires_unix << '\n';
    for (const auto& s : state.switched)
        out << "switched " << escaped_name(s.name) << ' ' << (s.enabled ? "enabled" : "disabled") << '\n';
    return out.str();
}

ControlStateRead parse_control_state(std::string_view text, std::string_view source) {
    ControlStateRead read;
    auto read_one = [&](std::string_view line) { return read_line(words_of(line), read.state); };
    read.errors = read_line_journal(text, {control_state_header, "control state file"}, source, read_one).errors;
    return read;
}

}  // namespace gw
