#include "http_request_judge.hpp"

#include <algorithm>
#include <charconv>

#include "igd/xml_vetting.hpp"

namespace gw {
namespace {

bool is_port(std::string_view digits, std::uint16_t expected) {
    std::uint32_t port = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    return ec == std::errc() && end == digits.data() + digits.size() && !digits.empty() && digits[0] != '+' &&
           port == expected;
}

// "a.b.c.d:port" or "[v6(%zone)]:port"; a Host without a port means 80 (RFC 7230 5.4),
// never the IGD's (>= 49152), so a port is required.
bool host_is_gateway_v4(std::string_view host, const FrontEndAddresses& gateway) {
    auto colon = host.rfind(':');
    if (colon == std::string_view::npos) return false;
    auto address = Ipv4Address::parse(host.substr(0, colon));
    return address && *address == gateway.lan_address && is_port(host.substr(colon + 1), gateway.http_port);
}

bool host_is_gateway_v6(std::string_view host, const FrontEndAddresses& gateway) {
    if (host.empty() || host.front() != '[') return false;
    auto close = host.find(']');
    if (close == std::string_view::npos || close + 1 >= host.size() || host[close + 1] != ':') return false;
    std::string_view literal = host.substr(1, close - 1);
    // The zone (RFC 6874: "%25eth0", as browsers and miniupnpc write it) names the
    // client's interface, not the gateway's: it is not compared.
    literal = literal.substr(0, literal.find('%'));
    auto address = Ipv6Address::parse(literal);
    if (!address || !is_port(host.substr(close + 2), gateway.http_port)) return false;
    for (const auto& own : gateway.lan_ipv6_addresses)
        if (own == *address) return true;
    return false;
}

}  // namespace

bool host_is_gateway(std::string_view host, const ClientAddress& client, const FrontEndAddresses& gateway) {
    return std::holds_alternative<Ipv4Address>(client) ? host_is_gateway_v4(host, gateway)
                                                       : host_is_gateway_v6(host, gateway);
}

bool callbacks_are_requesters(std::string_view value, Ipv4Address requester) {
    constexpr std::string_view scheme = "http://";
    bool any = false;
    while (!value.empty()) {
        if (value.front() == ' ' || value.front() == '\t') {
            value.remove_prefix(1);
            continue;
        }
        if (value.front() != '<') return false;
        auto close = value.find('>');
        if (close == std::string_view::npos) return false;
        std::string_view url = value.substr(1, close - 1);
        value.remove_prefix(close + 1);
        if (url.substr(0, scheme.size()) != scheme) return false;
        url.remove_prefix(scheme.size());
        std::string_view authority = url.substr(0, url.find('/'));
        auto colon = authority.find(':');
        auto host = Ipv4Address::parse(authority.substr(0, colon));
        if (!host || *host != requester) return false;
        if (colon != std::string_view::npos) {
            std::uint32_t port = 0;
            std::string_view digits = authority.substr(colon + 1);
            auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
            if (ec != std::errc() || end != digits.data() + digits.size() || port == 0 || port > 65535) return false;
        }
        any = true;
    }
    return any;
}

std::optional<std::uint16_t> first_callback_port(std::string_view value) {
    auto open = value.find('<'), close = value.find('>');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) return std::nullopt;
    std::string_view url = value.substr(open + 1, close - open - 1);
    url.remove_prefix(std::min(url.size(), std::string_view("http://").size()));
    std::string_view authority = url.substr(0, url.find('/'));
    auto colon = authority.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::uint32_t port = 0;
    std::string_view digits = authority.substr(colon + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc() || port == 0 || port > 65535) return std::nullopt;
    return std::uint16_t(port);
}

std::optional<HttpRefusal> judge_request(const HttpRequest& request, const ClientAddress& client,
                                         const FrontEndAddresses& gateway) {
    auto host = request.header("host");
    if (!host || !host_is_gateway(*host, client, gateway)) return HttpRefusal::foreign_host;
    if (request.method == "SUBSCRIBE") {
        const auto* requester = std::get_if<Ipv4Address>(&client);
        if (!requester) return HttpRefusal::subscribe_over_ipv6;
        bool renewal = request.header("sid").has_value();
        auto callback = request.header("callback");
        auto nt = request.header("nt");
        // UDA 4.1.2: a renewal carries SID and no CALLBACK or NT; a new one the reverse.
        if (renewal && (callback || nt)) return HttpRefusal::malformed;
        if (!renewal) {
            if (!nt || *nt != "upnp:event") return HttpRefusal::malformed;
            if (!callback || !callbacks_are_requesters(*callback, *requester))
                return HttpRefusal::callback_not_requester;
        }
    } else if (request.method == "UNSUBSCRIBE") {
        if (!request.header("sid") || request.header("callback") || request.header("nt")) return HttpRefusal::malformed;
    }
    if (!request.body.empty() && !vet_xml_body(request.body)) return HttpRefusal::bad_xml;
    return std::nullopt;
}

}  // namespace gw
