// The IGD learns who really asked from the front end's table of its pupnp connections.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "igd/forwarded_clients.hpp"

namespace gw {
namespace {

sockaddr_storage v4(const char* address, std::uint16_t port) {
    sockaddr_storage s{};
    auto& in = reinterpret_cast<sockaddr_in&>(s);
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    inet_pton(AF_INET, address, &in.sin_addr);
    return s;
}

std::string text(const sockaddr_storage& s) {
    char buffer[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(s).sin_addr, buffer, sizeof buffer);
    return buffer;
}

}  // namespace

TEST_CASE("pupnp's peer is mapped to the client the front end relayed for, and only while it is open") {
    ForwardedClients clients;
    clients.add(v4("192.168.1.1", 40000), v4("192.168.1.10", 51000));
    clients.add(v4("192.168.1.1", 40001), v4("192.168.1.20", 52000));
    REQUIRE(clients.client_of(v4("192.168.1.1", 40000)));
    CHECK(text(*clients.client_of(v4("192.168.1.1", 40000))) == "192.168.1.10");
    CHECK(text(*clients.client_of(v4("192.168.1.1", 40001))) == "192.168.1.20");
    // Another local socket (pupnp fetching its own description, any local process) is no client.
    CHECK(!clients.client_of(v4("192.168.1.1", 40002)));
    CHECK(!clients.client_of(v4("127.0.0.1", 40000)));
    clients.remove(v4("192.168.1.1", 40000));
    CHECK(!clients.client_of(v4("192.168.1.1", 40000)));
    CHECK(clients.size() == 1);
}

}  // namespace gw
