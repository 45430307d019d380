// Reads one HTTP request from a connection's bytes with nodejs http-parser (Debian's
// libhttp-parser), the way the IGD's front end judges it before pupnp may see it. The
// request is kept as http-parser read it (leading blank lines skipped, whitespace
// around values gone) and is later sent to pupnp rewritten in one canonical form
// (canonical_request_text), so pupnp never reads the client's bytes: what was judged
// is what pupnp parses.
//
// Strict on purpose (issue 14): one request per connection (bytes of a second one are
// refused, not queued), no Transfer-Encoding at all, a body only with Content-Length
// and within the limit, the head within its limit, no header twice, no control bytes
// in values, only the five methods the IGD serves, origin-form targets only.
#pragma once

#include <http_parser.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/expected.hpp"
#include "igd/http_refusal.hpp"

namespace gw {

struct HttpLimits {
    std::size_t max_head_bytes = 8192;
    std::size_t max_body_bytes = 16384;  // SOAP requests are a few hundred bytes
};

struct HttpRequest {
    std::string method;  // "GET", "POST", "SUBSCRIBE"...
    std::string target;  // origin-form: "/ctl/IPConn"
    std::vector<std::pair<std::string, std::string>> headers;  // in order, names as sent
    std::string body;
    // The value of the header named `name` (ASCII case-insensitive); nullopt if absent.
    std::optional<std::string_view> header(std::string_view name) const;
    void set_header(std::string_view name, std::string value);  // replaces, or appends
};

class HttpRequestReader {
public:
    enum class State { incomplete, complete, refused };

    explicit HttpRequestReader(HttpLimits limits = {});
    HttpRequestReader(const HttpRequestReader&) = delete;
    HttpRequestReader& operator=(const HttpRequestReader&) = delete;

    // Reads the next bytes of the connection. Once complete or refused, the state stays.
    State feed(std::string_view bytes);
    State state() const { return state_; }
    HttpRefusal refusal() const { return refusal_; }  // when refused
    const HttpRequest& request() const { return request_; }  // whole when complete
    HttpRequest& request() { return request_; }
    // Bytes this request holds in memory (what the front end's budget counts).
    std::size_t held_bytes() const { return held_; }

private:
    static int on_url(http_parser* p, const char* at, std::size_t length);
    static int on_header_field(http_parser* p, const char* at, std::size_t length);
    static int on_header_value(http_parser* p, const char* at, std::size_t length);
    static int on_headers_complete(http_parser* p);
    static int on_body(http_parser* p, const char* at, std::size_t length);
    static int on_message_complete(http_parser* p);
    int refuse(HttpRefusal reason);
    // The header just read, into request_; why it is refused, if it is.
    Expected<void, HttpRefusal> finish_header();
    // HTTP/1.0 or 1.1, an origin-form target without control bytes.
    Expected<void, HttpRefusal> check_head() const;

    HttpLimits limits_;
    http_parser parser_{};
    http_parser_settings settings_{};
    HttpRequest request_;
    State state_ = State::incomplete;
    HttpRefusal refusal_ = HttpRefusal::malformed;
    std::size_t head_seen_ = 0, held_ = 0;
    bool headers_done_ = false, in_value_ = false;
    std::string field_, value_;
};

// The request as pupnp is given it: request line, the client's headers but those about
// the connection or the body's framing (Connection, Keep-Alive, Content-Length,
// Transfer-Encoding, TE, Upgrade, Expect, Proxy-*), then Content-Length when there is a
// body, and Connection: close; then the body.
std::string canonical_request_text(const HttpRequest& request);

bool equals_ignoring_case(std::string_view a, std::string_view b);

}  // namespace gw
