// Who really asked, for requests the IGD's front end relays to pupnp. pupnp only ever
// sees the front end's own loopback-side connection, so UpnpActionRequest_get_CtrlPtIPAddr
// (secure mode, pinholes) names the gateway itself. The front end records, for each
// connection it opens to pupnp, that connection's local address and port (exactly the
// peer pupnp's accept() reports) and the client it carries; the IGD looks the peer up.
//
// Why it is sound: pupnp's server listens on a port that the daemon's own iptables
// chains let in from the loopback interface only (daemon/queue_rules.cpp), so its peers
// are local sockets; a local socket's address and port pair is unique while the
// connection is open, and the front end adds the entry before connect() can complete and
// removes it only after the connection is closed, after pupnp answered. A peer that is
// not in the table (pupnp fetching its own description, another local process) is no
// client at all: the IGD refuses its actions as coming from outside the LAN.
//
// Threads: the front end adds and removes, pupnp's pool looks up; one mutex.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>

namespace gw {

class ForwardedClients {
public:
    void add(const sockaddr_storage& upstream_local, const sockaddr_storage& client);
    void remove(const sockaddr_storage& upstream_local);
    // The client behind `peer` (what pupnp reports), or nullopt.
    std::optional<sockaddr_storage> client_of(const sockaddr_storage& peer) const;
    std::size_t size() const;

private:
    struct Key {
        int family = 0;
        std::array<std::uint8_t, 16> address{};
        std::uint16_t port = 0;
        auto operator<=>(const Key&) const = default;
    };
    static std::optional<Key> key_of(const sockaddr_storage& address);

    mutable std::mutex mutex_;
    std::map<Key, sockaddr_storage> clients_;
};

}  // namespace gw
