// Checks HTTP requests to the gateway's UPnP server before pupnp sees them. pupnp 1.8.4
// gives its callbacks neither the Host header nor a SUBSCRIBE's CALLBACK URL, so the
// checks that the UPnP CVE record asks for are made here, on the TCP segment that
// carries the request head (the engine judges every LAN packet to the gateway):
//   - Host must be the gateway's LAN address:port (DNS rebinding);
//   - every CALLBACK URL of a SUBSCRIBE must point inside the LAN (CallStranger,
//     CVE-2020-12695: the gateway would otherwise send NOTIFYs anywhere on request);
//   - the head must be complete in its segment and the declared body small.
// Segments without a request head (a body's continuation, ACKs) pass: the connection
// was judged on its first request.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "nat/endpoint.hpp"

namespace gw {

enum class UpnpRequestVerdict : std::uint8_t {
    pass,
    foreign_host,        // Host is not the gateway's LAN address:port
    callback_outside_lan,
    too_large,           // head over the limit, or Content-Length over the limit
    malformed,           // a request line without a complete, parseable head
};

inline constexpr std::size_t upnp_request_verdict_count = 5;

std::string_view upnp_request_verdict_name(UpnpRequestVerdict verdict);

struct UpnpRequestGuardConfig {
    Endpoint server;                     // the LAN address and HTTP port pupnp serves on
    std::span<const Ipv4Network> lan_networks;
    std::size_t max_head_bytes = 8192;
    std::size_t max_body_bytes = 16384;  // SOAP requests are a few hundred bytes
};

// `payload`: the TCP payload of one segment sent to the server.
UpnpRequestVerdict judge_upnp_request(std::string_view payload, const UpnpRequestGuardConfig& config);

// The status code of an HTTP response whose status line starts `payload`
// ("HTTP/1.1 400 Bad Request" -> 400), or 0 for anything else (a continuation segment).
// What pupnp refuses by itself, before any callback of ours (XML that does not parse:
// 400; an unknown path: 404), is only visible in its answer: the engine counts the 4xx.
int http_response_status(std::string_view payload);

}  // namespace gw
