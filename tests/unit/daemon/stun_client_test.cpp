// The STUN client's socket side against a responder on loopback (nothing leaves the
// host): the answer taken, strays ignored, retransmissions with one transaction id, an
// error response, no answer, and cancellation.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "daemon/stun_client.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;
const Ipv4Address loopback = Ipv4Address::from_octets(127, 0, 0, 1);

// A UDP socket on 127.0.0.1 that hands each request it receives to `answer`, which
// returns the datagrams to send back (possibly none).
class Responder {
public:
    using Answer = std::function<std::vector<std::vector<std::uint8_t>>(const std::vector<std::uint8_t>& request,
                                                                         const sockaddr_in& from)>;
    explicit Responder(Answer answer) : answer_(std::move(answer)) {
        fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t length = sizeof a;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &length);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~Responder() {
        stop_ = true;
        thread_.join();
        close(fd_);
    }
    StunServerConfig server() const { return {"127.0.0.1", port_}; }
    std::vector<std::vector<std::uint8_t>> requests() const {
        std::this_thread::sleep_for(50ms);  // the last one may still be on its way
        return requests_;
    }

private:
    void serve() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, 20) <= 0) continue;
            std::vector<std::uint8_t> buffer(1500);
            sockaddr_in from{};
            socklen_t length = sizeof from;
            ssize_t n = recvfrom(fd_, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from), &length);
            if (n <= 0) continue;
            buffer.resize(std::size_t(n));
            requests_.push_back(buffer);
            for (const auto& reply : answer_(buffer, from))
                sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), sizeof from);
        }
    }
    Answer answer_;
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::vector<std::vector<std::uint8_t>> requests_;  // read after the thread is quiet
    std::thread thread_;
};

// A response of `type` to `request` (its cookie and transaction id) with one attribute.
std::vector<std::uint8_t> response(const std::vector<std::uint8_t>& request, std::uint16_t type,
                                   std::uint16_t attribute, std::vector<std::uint8_t> value) {
    std::vector<std::uint8_t> out(request.begin(), request.begin() + 20);  // keeps cookie and transaction id
    out[0] = std::uint8_t(type >> 8);
    out[1] = std::uint8_t(type);
    out[2] = out[3] = 0;
    out.push_back(std::uint8_t(attribute >> 8));
    out.push_back(std::uint8_t(attribute));
    out.push_back(0);
    out.push_back(std::uint8_t(value.size()));
    out.insert(out.end(), value.begin(), value.end());
    while (out.size() % 4) out.push_back(0);
    out[3] = std::uint8_t(out.size() - 20);
    return out;
}

// XOR-MAPPED-ADDRESS of where the request came from (RFC 5389 15.2).
std::vector<std::uint8_t> xor_mapped_of(const sockaddr_in& from) {
    std::uint16_t port = ntohs(from.sin_port) ^ std::uint16_t(stun_magic_cookie >> 16);
    std::uint32_t a = ntohl(from.sin_addr.s_addr) ^ stun_magic_cookie;
    return {0, 1, std::uint8_t(port >> 8), std::uint8_t(port), std::uint8_t(a >> 24), std::uint8_t(a >> 16),
            std::uint8_t(a >> 8), std::uint8_t(a)};
}

StunRetransmission quick() {
    StunRetransmission r;
    r.initial_rto = 20ms;
    r.max_requests = 3;
    r.last_wait_factor = 4;
    r.budget = 1s;
    return r;
}

bool never() { return false; }

}  // namespace

TEST_CASE("the STUN client takes its answer and ignores a stray datagram before it") {
    Responder responder([](const auto& request, const sockaddr_in& from) {
        auto stray = response(request, 0x0101, 0x0020, xor_mapped_of(from));
        stray[19] ^= 1;  // another transaction
        return std::vector<std::vector<std::uint8_t>>{stray, response(request, 0x0101, 0x0020, xor_mapped_of(from))};
    });
    auto outcome = query_stun_server(responder.server(), loopback, quick(), never);
    REQUIRE(outcome.answer);
    CHECK(outcome.answer->mapped.address == loopback);
    CHECK(outcome.answer->mapped.port.value != 0);
    CHECK(outcome.requests_sent == 1);
}

TEST_CASE("without an answer the STUN client retransmits the same request on schedule, then gives up") {
    Responder silent([](const auto&, const auto&) { return std::vector<std::vector<std::uint8_t>>{}; });
    auto started = std::chrono::steady_clock::now();
    auto outcome = query_stun_server(silent.server(), loopback, quick(), never);
    auto took = std::chrono::steady_clock::now() - started;
    CHECK_FALSE(outcome.answer);
    CHECK(outcome.requests_sent == 3);
    CHECK_THAT(outcome.problem, Catch::StartsWith("no answer from 127.0.0.1:") && Catch::Contains("after 3 requests"));
    CHECK(took >= 140ms);  // the last request at 60 ms, then 4 x 20 ms (RFC 5389 7.2.1's Rm x RTO)
    auto requests = silent.requests();
    REQUIRE(requests.size() == 3);
    CHECK(requests[0] == requests[1]);  // one transaction id throughout
    CHECK(requests[1] == requests[2]);
}

TEST_CASE("an error response ends the STUN query with the server's code") {
    Responder refusing([](const auto& request, const auto&) {
        return std::vector<std::vector<std::uint8_t>>{
            response(request, 0x0111, 0x0009, {0, 0, 4, 0, 'B', 'a', 'd', ' ', 'R', 'e', 'q'})};
    });
    auto outcome = query_stun_server(refusing.server(), loopback, quick(), never);
    CHECK_FALSE(outcome.answer);
    CHECK(outcome.problem == "the STUN server answered error_response 400 Bad Req");
    CHECK(outcome.requests_sent == 1);
}

TEST_CASE("a cancelled STUN query returns within its 100 ms polling slice") {
    Responder silent([](const auto&, const auto&) { return std::vector<std::vector<std::uint8_t>>{}; });
    StunRetransmission slow;  // the daemon's: 9.5 s without an answer
    auto started = std::chrono::steady_clock::now();
    auto outcome = query_stun_server(silent.server(), loopback, slow,
                                     [&] { return std::chrono::steady_clock::now() - started > 50ms; });
    CHECK(outcome.problem == "cancelled");
    CHECK(std::chrono::steady_clock::now() - started < 1s);
}

}  // namespace gw::test
