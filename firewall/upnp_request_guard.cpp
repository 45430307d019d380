#include "upnp_request_guard.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <charconv>
#include <string>

#include "address_checks.hpp"

namespace gw {
namespace {

constexpr std::array<std::string_view, 6> request_methods = {"GET ", "POST ", "SUBSCRIBE ", "UNSUBSCRIBE ",
                                                             "M-POST ", "HEAD "};

bool starts_with_method(std::string_view payload) {
    for (auto method : request_methods)
        if (payload.substr(0, method.size()) == method) return true;
    return false;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// "http://a.b.c.d:port/path" -> a.b.c.d; nullopt for names or anything else, which
// cannot be checked and so is refused.
std::optional<Ipv4Address> url_host(std::string_view url) {
    constexpr std::string_view scheme = "http://";
    if (url.substr(0, scheme.size()) != scheme) return std::nullopt;
    url.remove_prefix(scheme.size());
    auto end = url.find_first_of(":/");
    return Ipv4Address::parse(url.substr(0, end));
}

// GENA: CALLBACK: <url1><url2>... (UDA 4.1.1)
bool callbacks_inside_lan(std::string_view value, std::span<const Ipv4Network> lan) {
    bool any = false;
    while (!value.empty()) {
        auto open = value.find('<');
        if (open == std::string_view::npos) break;
        auto close = value.find('>', open);
        if (close == std::string_view::npos) return false;
        auto host = url_host(value.substr(open + 1, close - open - 1));
        if (!host || !is_inside(*host, lan)) return false;
        any = true;
        value.remove_prefix(close + 1);
    }
    return any;
}

bool host_is_server(std::string_view value, Endpoint server) {
    auto colon = value.rfind(':');
    auto address = Ipv4Address::parse(value.substr(0, colon));
    if (!address || *address != server.address) return false;
    // Without a port, HTTP means 80 (RFC 7230 5.4).
    std::uint32_t port = 80;
    if (colon != std::string_view::npos) {
        auto digits = value.substr(colon + 1);
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
        if (ec != std::errc() || end != digits.data() + digits.size()) return false;
    }
    return port == server.port.value;
}

}  // namespace

std::string_view upnp_request_verdict_name(UpnpRequestVerdict verdict) {
    switch (verdict) {
        case UpnpRequestVerdict::pass: return "pass";
        case UpnpRequestVerdict::foreign_host: return "foreign_host";
        case UpnpRequestVerdict::callback_outside_lan: return "callback_outside_lan";
        case UpnpRequestVerdict::too_large: return "too_large";
        case UpnpRequestVerdict::malformed: return "malformed";
    }
    return "malformed";
}

UpnpRequestVerdict judge_upnp_request(std::string_view payload, const UpnpRequestGuardConfig& config) {
    if (!starts_with_method(payload)) return UpnpRequestVerdict::pass;
    auto head_end = payload.find("\r\n\r\n");
    if (head_end == std::string_view::npos)
        return payload.size() > config.max_head_bytes ? UpnpRequestVerdict::too_large : UpnpRequestVerdict::malformed;
    if (head_end > config.max_head_bytes) return UpnpRequestVerdict::too_large;
    std::string_view head = payload.substr(0, head_end);
    bool subscribe = head.substr(0, 10) == "SUBSCRIBE ";
    bool host_seen = false;
    head.remove_prefix(std::min(head.size(), head.find("\r\n") + 2));  // the request line
    while (!head.empty()) {
        auto line_end = head.find("\r\n");
        std::string_view line = head.substr(0, line_end);
        head.remove_prefix(line_end == std::string_view::npos ? head.size() : line_end + 2);
        auto colon = line.find(':');
        if (colon == std::string_view::npos) return UpnpRequestVerdict::malformed;
        std::string_view name = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
        if (equals_ignoring_case(name, "host")) {
            if (host_seen || !host_is_server(value, config.server)) return UpnpRequestVerdict::foreign_host;
            host_seen = true;
        } else if (equals_ignoring_case(name, "content-length")) {
            std::size_t length = 0;
            auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
            if (ec != std::errc() || end != value.data() + value.size()) return UpnpRequestVerdict::malformed;
            if (length > config.max_body_bytes) return UpnpRequestVerdict::too_large;
        } else if (subscribe && equals_ignoring_case(name, "callback")) {
            if (!callbacks_inside_lan(value, config.lan_networks)) return UpnpRequestVerdict::callback_outside_lan;
        }
    }
    // HTTP/1.1 requires Host (RFC 7230 5.4); a request without one is refused too.
    return host_seen ? UpnpRequestVerdict::pass : UpnpRequestVerdict::foreign_host;
}

int http_response_status(std::string_view payload) {
    // "HTTP/1.x NNN": 12 bytes at least, three digits then a space or the end of the line.
    if (payload.size() < 12 || !payload.starts_with("HTTP/1.") || payload[8] != ' ') return 0;
    int status = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        if (payload[i] < '0' || payload[i] > '9') return 0;
        status = status * 10 + (payload[i] - '0');
    }
    if (payload.size() > 12 && payload[12] != ' ' && payload[12] != '\r') return 0;
    return status;
}

}  // namespace gw
