// What the IGD's HTTP front end decides about a whole request read by HttpRequestReader,
// before pupnp may see it (pure: no I/O, no clock):
//   - Host must be the gateway's own address the client reached, with upnp.http_port
//     (DNS rebinding: a page that rebinds a name to the gateway sends its own Host);
//   - a new SUBSCRIBE's CALLBACK URLs must all be http:// URLs to the requester's own
//     address (CallStranger, CVE-2020-12695: stricter than "inside the LAN", so no LAN
//     host can point the gateway's NOTIFYs at another host);
//   - SUBSCRIBE over IPv6 is refused: pupnp 1.8 never delivers events to IPv6 callbacks;
//   - a body must pass vet_xml_body (xml_vetting.hpp) before libixml reads it.
// Subscription counts and SID ownership are the GENA table's (gena_subscriptions.hpp).
#pragma once

#include <optional>
#include <variant>
#include <vector>

#include "igd/http_refusal.hpp"
#include "igd/http_request_reader.hpp"
#include "nat/endpoint.hpp"
#include "nat/ipv6_address.hpp"

namespace gw {

using ClientAddress = std::variant<Ipv4Address, Ipv6Address>;

struct FrontEndAddresses {
    Ipv4Address lan_address;
    std::uint16_t http_port = 0;
    std::vector<Ipv6Address> lan_ipv6_addresses;  // link-local included
};

std::optional<HttpRefusal> judge_request(const HttpRequest& request, const ClientAddress& client,
                                         const FrontEndAddresses& gateway);

// Host header value -> whether it names one of the gateway's addresses of the client's
// family with http_port ("192.168.1.1:49152", "[fe80::1%25eth0]:49152").
bool host_is_gateway(std::string_view host, const ClientAddress& client, const FrontEndAddresses& gateway);

// CALLBACK: <url1><url2>... (UDA 4.1.1): every URL http://<requester>[:port][/path].
bool callbacks_are_requesters(std::string_view value, Ipv4Address requester);
// The port of the first CALLBACK URL (nullopt: none given, which means 80); only for a
// value callbacks_are_requesters accepted.
std::optional<std::uint16_t> first_callback_port(std::string_view value);

}  // namespace gw
