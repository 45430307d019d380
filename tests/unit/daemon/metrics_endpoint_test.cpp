// The scrape endpoint over real loopback sockets: what a scraper, a wrong client and a
// slow or greedy one get.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "daemon/metrics_endpoint.hpp"

namespace {

using namespace std::chrono_literals;

int connect_to(std::uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    timeval timeout{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    return fd;
}

// Everything the server sends until it closes (or 5 s pass).
std::string read_all(int fd) {
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = recv(fd, buffer, sizeof buffer, 0)) > 0;) text.append(buffer, std::size_t(n));
    return text;
}

std::string exchange(std::uint16_t port, const std::string& request) {
    int fd = connect_to(port);
    send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string answer = read_all(fd);
    close(fd);
    return answer;
}

gw::Endpoint loopback_any_port() { return {*gw::Ipv4Address::parse("127.0.0.1"), gw::Port{0}}; }

}  // namespace

TEST_CASE("a scrape of /metrics gets the text last published, as Prometheus text") {
    gw::MetricsEndpoint endpoint(loopback_any_port());
    endpoint.start();
    endpoint.publish("gatewayd_flows 7\n");
    std::string answer = exchange(endpoint.port(), "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
    CHECK(answer.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK_THAT(answer, Catch::Contains("Content-Type: text/plain; version=0.0.4"));
    CHECK_THAT(answer, Catch::EndsWith("\r\n\r\ngatewayd_flows 7\n"));
    CHECK(endpoint.counts().served == 1);
}

TEST_CASE("another path is 404, another method 405, and a malformed request 400") {
    gw::MetricsEndpoint endpoint(loopback_any_port());
    endpoint.start();
    CHECK(exchange(endpoint.port(), "GET /secrets HTTP/1.1\r\nHost: x\r\n\r\n").rfind("HTTP/1.1 404", 0) == 0);
    CHECK(exchange(endpoint.port(), "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").rfind("HTTP/1.1 405", 0) == 0);
    CHECK(exchange(endpoint.port(), "GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").rfind("HTTP/1.1 400", 0) == 0);
    auto counts = endpoint.counts();
    CHECK(counts.not_found == 1);
    CHECK(counts.bad_requests == 2);
    CHECK(counts.served == 0);
}

TEST_CASE("a client that never finishes its request is closed at the deadline and counted") {
    gw::MetricsEndpoint endpoint(loopback_any_port(), 300ms);
    endpoint.start();
    int fd = connect_to(endpoint.port());
    send(fd, "GET /met", 8, MSG_NOSIGNAL);
    auto started = std::chrono::steady_clock::now();
    std::string answer = read_all(fd);  // returns when the server closes
    auto waited = std::chrono::steady_clock::now() - started;
    close(fd);
    CHECK(answer.empty());
    CHECK(waited < 3s);
    CHECK(endpoint.counts().timed_out == 1);
}

TEST_CASE("connections past the limit are closed at once while the others are served") {
    gw::MetricsEndpoint endpoint(loopback_any_port(), 2s);
    endpoint.start();
    std::vector<int> idle;
    for (std::size_t i = 0; i < gw::MetricsEndpoint::max_connections; ++i) idle.push_back(connect_to(endpoint.port()));
    // Until the server holds them all (a loaded machine may take a while to accept).
    for (int i = 0; i < 100 && endpoint.counts().open < gw::MetricsEndpoint::max_connections; ++i)
        std::this_thread::sleep_for(20ms);
    REQUIRE(endpoint.counts().open == gw::MetricsEndpoint::max_connections);
    int extra = connect_to(endpoint.port());
    CHECK(read_all(extra).empty());  // closed without an answer
    close(extra);
    CHECK(endpoint.counts().busy >= 1);
    for (int fd : idle) close(fd);
    for (int i = 0; i < 100 && endpoint.counts().open > 0; ++i) std::this_thread::sleep_for(20ms);
    CHECK(exchange(endpoint.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").rfind("HTTP/1.1 200", 0) == 0);
}
