#include "http_exchange.hpp"

#include <charconv>

namespace gw {
namespace {

std::string_view header_value(std::string_view head, std::string_view name) {
    std::size_t at = 0;
    while ((at = head.find("\r\n", at)) != std::string_view::npos) {
        at += 2;
        std::string_view line = head.substr(at, head.find("\r\n", at) - at);
        auto colon = line.find(':');
        if (colon != std::string_view::npos && equals_ignoring_case(line.substr(0, colon), name)) {
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
            while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
            return value;
        }
    }
    return {};
}

}  // namespace

void HttpExchange::take_answer(std::string_view bytes) {
    answer.append(bytes);
    if (answer_head_done) return;
    // pupnp's own answer: only its status line and two headers are read, from at most 8 KB.
    answer_head.append(bytes.substr(0, 8192 - std::min<std::size_t>(answer_head.size(), 8192)));
    auto end = answer_head.find("\r\n\r\n");
    if (end == std::string::npos && answer_head.size() < 8192) return;
    answer_head_done = true;
    std::string_view head(answer_head.data(), end == std::string::npos ? answer_head.size() : end + 2);
    if (head.size() >= 12 && head.substr(0, 7) == "HTTP/1." && head[8] == ' ')
        std::from_chars(head.data() + 9, head.data() + 12, answer_status);
    answer_sid = std::string(header_value(head, "sid"));
    answer_timeout = std::string(header_value(head, "timeout"));
    answer_head.clear();
    answer_head.shrink_to_fit();
}

}  // namespace gw
