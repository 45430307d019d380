// Where a replacement external port is drawn from when the preserved one is taken
// (RFC 6056 §3.3.1 "simple port randomization", as RFC 7857 §9 asks of a NAT): a keyed
// hash of a draw counter and the internal endpoint, so that an off-path attacker who
// sees some mappings cannot guess the next one, yet the engine stays deterministic for
// a given key (tests pass a fixed key; the daemon draws one from getrandom at start).
#pragma once

#include <array>
#include <cstdint>

#include "endpoint.hpp"

namespace gw {

using PortSelectionKey = std::array<std::uint8_t, 16>;

class PortDraw {
public:
    explicit PortDraw(const PortSelectionKey& key) : key_(key) {}
    // A fresh 64-bit value for each call: SipHash-2-4 (libsodium's crypto_shorthash) of
    // the counter, the protocol and the internal endpoint under the key.
    std::uint64_t next(Protocol protocol, Endpoint internal);

private:
    PortSelectionKey key_;
    std::uint64_t count_ = 0;
};

}  // namespace gw
