#include "http_exchange.hpp"

#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

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

Expected<int> open_listener(const sockaddr_storage& address) {
    int fd = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return unexpected(Error{std::string("socket: ") + std::strerror(errno)});
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (address.ss_family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
        // A global address may still be tentative (duplicate address detection).
        setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &on, sizeof on);
    }
    socklen_t length = address.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0 || listen(fd, 128) != 0) {
        Error error{std::strerror(errno)};
        close(fd);
        return unexpected(std::move(error));
    }
    return fd;
}

ClientAddress client_address_of(const sockaddr_storage& s) {
    if (s.ss_family == AF_INET)
        return Ipv4Address(ntohl(reinterpret_cast<const sockaddr_in&>(s).sin_addr.s_addr));
    Ipv6Address::Bytes bytes{};
    std::memcpy(bytes.data(), &reinterpret_cast<const sockaddr_in6&>(s).sin6_addr, bytes.size());
    return Ipv6Address(bytes);
}

std::string client_text(const ClientAddress& client) {
    return std::visit([](const auto& a) { return a.to_string(); }, client);
}

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
