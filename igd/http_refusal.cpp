#include "http_refusal.hpp"

#include <string>

namespace gw {
namespace {

std::string_view reason_phrase(int status) {
    switch (status) {
        case 400: return "Bad Request";
        case 408: return "Request Timeout";
        case 411: return "Length Required";
        case 412: return "Precondition Failed";
        case 413: return "Payload Too Large";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
    }
    return "Error";
}

constexpr std::array<std::string_view, http_refusal_count> names = {
#define GW_HTTP_REFUSAL_NAME(name, status) #name,
    GW_HTTP_REFUSALS(GW_HTTP_REFUSAL_NAME)
#undef GW_HTTP_REFUSAL_NAME
};

constexpr std::array<int, http_refusal_count> statuses = {
#define GW_HTTP_REFUSAL_STATUS(name, status) status,
    GW_HTTP_REFUSALS(GW_HTTP_REFUSAL_STATUS)
#undef GW_HTTP_REFUSAL_STATUS
};

// Built once: the answers are sent from the front end's loop, with no allocation there.
const std::array<std::string, http_refusal_count>& answers() {
    static const auto built = [] {
        std::array<std::string, http_refusal_count> a;
        for (std::size_t i = 0; i < a.size(); ++i) {
            std::string status = std::to_string(statuses[i]) + " " + std::string(reason_phrase(statuses[i]));
            a[i] = "HTTP/1.1 " + status + "\r\nContent-Type: text/plain\r\nContent-Length: " +
                   std::to_string(status.size() + 2) + "\r\nConnection: close\r\n\r\n" + status + "\r\n";
        }
        return a;
    }();
    return built;
}

}  // namespace

std::string_view http_refusal_name(HttpRefusal refusal) { return names[std::size_t(refusal)]; }
int http_refusal_status(HttpRefusal refusal) { return statuses[std::size_t(refusal)]; }
std::string_view http_refusal_answer(HttpRefusal refusal) { return answers()[std::size_t(refusal)]; }

}  // namespace gw
