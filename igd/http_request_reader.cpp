#include "http_request_reader.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace gw {
namespace {

HttpRequestReader& reader_of(http_parser* p) { return *static_cast<HttpRequestReader*>(p->data); }

bool has_control_byte(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return (u < 0x20 && u != '\t') || u == 0x7f;
    });
}

// RFC 7230 3.2.6 tchar: http-parser lets "Content-Length :" through as a name with a
// space in it, which pupnp might read as Content-Length (found by the fuzzer).
bool is_token(std::string_view s) {
    constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
    return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || extra.find(c) != std::string_view::npos;
    });
}

std::string_view trimmed(std::string_view s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    return s;
}

// Headers about this hop or the body's framing: the front end decides those for pupnp.
constexpr std::array<std::string_view, 9> hop_headers = {"connection", "keep-alive", "content-length",
                                                         "transfer-encoding", "te", "upgrade",
                                                         "expect", "proxy-connection", "proxy-authorization"};

}  // namespace

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
    for (const auto& [n, v] : headers)
        if (equals_ignoring_case(n, name)) return std::string_view(v);
    return std::nullopt;
}

void HttpRequest::set_header(std::string_view name, std::string value) {
    for (auto& [n, v] : headers)
        if (equals_ignoring_case(n, name)) {
            v = std::move(value);
            return;
        }
    headers.emplace_back(std::string(name), std::move(value));
}

HttpRequestReader::HttpRequestReader(HttpLimits limits) : limits_(limits) {
    http_parser_init(&parser_, HTTP_REQUEST);
    http_parser_settings_init(&settings_);
    settings_.on_url = &HttpRequestReader::on_url;
    settings_.on_header_field = &HttpRequestReader::on_header_field;
    settings_.on_header_value = &HttpRequestReader::on_header_value;
    settings_.on_headers_complete = &HttpRequestReader::on_headers_complete;
    settings_.on_body = &HttpRequestReader::on_body;
    settings_.on_message_complete = &HttpRequestReader::on_message_complete;
}

int HttpRequestReader::refuse(HttpRefusal reason) {
    if (state_ == State::incomplete) {
        state_ = State::refused;
        refusal_ = reason;
    }
    return -1;  // stops http-parser
}

HttpRequestReader::State HttpRequestReader::feed(std::string_view bytes) {
    parser_.data = this;
    while (!bytes.empty() && state_ == State::incomplete) {
        std::size_t chunk = bytes.size();
        // Until the head is whole, http-parser is given no more than the head limit:
        // a head that does not end within it is refused, however it is cut into reads.
        if (!headers_done_) {
            if (head_seen_ >= limits_.max_head_bytes) {
                refuse(HttpRefusal::too_large);
                return state_;
            }
            chunk = std::min(chunk, limits_.max_head_bytes - head_seen_);
        }
        bool head_before = headers_done_;
        std::size_t parsed = http_parser_execute(&parser_, &settings_, bytes.data(), chunk);
        if (!head_before) head_seen_ += parsed;
        held_ = head_seen_ + request_.body.size();
        if (state_ == State::refused) return state_;
        if (HTTP_PARSER_ERRNO(&parser_) == HPE_PAUSED) {  // the message ended (on_message_complete)
            // Blank lines after a request are tolerated (RFC 7230 3.5); anything else is
            // a second request, which is never read: one request per connection.
            std::string_view rest = bytes.substr(parsed);
            if (rest.find_first_not_of("\r\n") != std::string_view::npos) {
                refuse(HttpRefusal::pipelined);
                return state_;
            }
            state_ = State::complete;
            return state_;
        }
        if (HTTP_PARSER_ERRNO(&parser_) != HPE_OK) {
            // http-parser may give up on Transfer-Encoding beside Content-Length before
            // the header reaches us: still refused for what it is.
            bool chunked = (parser_.flags & F_CHUNKED) || (in_value_ && equals_ignoring_case(field_, "transfer-encoding"));
            refuse(chunked ? HttpRefusal::transfer_encoding : HttpRefusal::malformed);
            return state_;
        }
        bytes.remove_prefix(parsed);
    }
    if (state_ == State::complete && bytes.find_first_not_of("\r\n") != std::string_view::npos) {
        state_ = State::refused;  // a second request arrived after the first was whole
        refusal_ = HttpRefusal::pipelined;
    }
    return state_;
}

int HttpRequestReader::on_url(http_parser* p, const char* at, std::size_t length) {
    auto& self = reader_of(p);
    switch (p->method) {
        case HTTP_GET: case HTTP_HEAD: case HTTP_POST: case HTTP_SUBSCRIBE: case HTTP_UNSUBSCRIBE: break;
        default: return self.refuse(HttpRefusal::unknown_method);
    }
    self.request_.target.append(at, length);
    return 0;
}

Expected<void, HttpRefusal> HttpRequestReader::finish_header() {
    if (!in_value_) return {};
    in_value_ = false;
    std::string_view value = trimmed(value_);
    // No header twice: two Hosts or two CALLBACKs would let pupnp read another than was judged.
    if (!is_token(field_) || has_control_byte(value) || request_.header(field_))
        return unexpected(HttpRefusal::malformed);
    // Refused as soon as it is named, before http-parser weighs it against Content-Length.
    if (equals_ignoring_case(field_, "transfer-encoding")) return unexpected(HttpRefusal::transfer_encoding);
    request_.headers.emplace_back(std::move(field_), std::string(value));
    field_.clear();
    value_.clear();
    return {};
}

int HttpRequestReader::on_header_field(http_parser* p, const char* at, std::size_t length) {
    auto& self = reader_of(p);
    if (auto finished = self.finish_header(); !finished) return self.refuse(finished.error());
    self.field_.append(at, length);
    return 0;
}

int HttpRequestReader::on_header_value(http_parser* p, const char* at, std::size_t length) {
    auto& self = reader_of(p);
    self.in_value_ = true;
    self.value_.append(at, length);
    return 0;
}

Expected<void, HttpRefusal> HttpRequestReader::check_head() const {
    if (parser_.http_major != 1 || parser_.http_minor > 1) return unexpected(HttpRefusal::malformed);
    const std::string& t = request_.target;
    if (t.empty() || t.front() != '/' || has_control_byte(t)) return unexpected(HttpRefusal::malformed);
    return {};
}

int HttpRequestReader::on_headers_complete(http_parser* p) {
    auto& self = reader_of(p);
    if (auto finished = self.finish_header(); !finished) return self.refuse(finished.error());
    if (auto head = self.check_head(); !head) return self.refuse(head.error());
    self.headers_done_ = true;
    self.request_.method = http_method_str(static_cast<http_method>(p->method));
    // Chunked (or any other coding) would let a body run past the size limit.
    if ((p->flags & F_CHUNKED) || self.request_.header("transfer-encoding"))
        return self.refuse(HttpRefusal::transfer_encoding);
    bool has_length = (p->flags & F_CONTENTLENGTH) != 0;
    if (has_length && p->content_length > self.limits_.max_body_bytes) return self.refuse(HttpRefusal::too_large);
    if (p->method == HTTP_POST && !has_length) return self.refuse(HttpRefusal::body_without_length);
    return 0;
}

int HttpRequestReader::on_body(http_parser* p, const char* at, std::size_t length) {
    auto& self = reader_of(p);
    if (self.request_.body.size() + length > self.limits_.max_body_bytes) return self.refuse(HttpRefusal::too_large);
    self.request_.body.append(at, length);
    return 0;
}

int HttpRequestReader::on_message_complete(http_parser* p) {
    http_parser_pause(p, 1);
    return 0;
}

std::string canonical_request_text(const HttpRequest& request) {
    std::string text = request.method + " " + request.target + " HTTP/1.1\r\n";
    for (const auto& header : request.headers) {
        bool hop = std::any_of(hop_headers.begin(), hop_headers.end(),
                               [&](std::string_view h) { return equals_ignoring_case(header.first, h); });
        if (!hop) text += header.first + ": " + header.second + "\r\n";
    }
    if (!request.body.empty() || request.method == "POST")
        text += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
    text += "Connection: close\r\n\r\n";
    return text + request.body;
}

}  // namespace gw
