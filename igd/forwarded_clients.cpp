#include "forwarded_clients.hpp"

#include <netinet/in.h>

#include <cstring>

namespace gw {

std::optional<ForwardedClients::Key> ForwardedClients::key_of(const sockaddr_storage& address) {
    Key key;
    key.family = address.ss_family;
    if (address.ss_family == AF_INET) {
        const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
        std::memcpy(key.address.data(), &v4.sin_addr, 4);
        key.port = ntohs(v4.sin_port);
    } else if (address.ss_family == AF_INET6) {
        const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
        std::memcpy(key.address.data(), &v6.sin6_addr, 16);
        key.port = ntohs(v6.sin6_port);
    } else {
        return std::nullopt;
    }
    return key;
}

void ForwardedClients::add(const sockaddr_storage& upstream_local, const sockaddr_storage& client) {
    if (auto key = key_of(upstream_local)) {
        std::lock_guard lock(mutex_);
        clients_[*key] = client;
    }
}

void ForwardedClients::remove(const sockaddr_storage& upstream_local) {
    if (auto key = key_of(upstream_local)) {
        std::lock_guard lock(mutex_);
        clients_.erase(*key);
    }
}

std::optional<sockaddr_storage> ForwardedClients::client_of(const sockaddr_storage& peer) const {
    auto key = key_of(peer);
    if (!key) return std::nullopt;
    std::lock_guard lock(mutex_);
    auto it = clients_.find(*key);
    if (it == clients_.end()) return std::nullopt;
    return it->second;
}

std::size_t ForwardedClients::size() const {
    std::lock_guard lock(mutex_);
    return clients_.size();
}

}  // namespace gw
