#include "port_selection.hpp"

#include <sodium.h>

#include <cstring>

namespace gw {

std::uint64_t PortDraw::next(Protocol protocol, Endpoint internal) {
    static_assert(sizeof(PortSelectionKey) == crypto_shorthash_KEYBYTES);
    unsigned char input[8 + 1 + 4 + 2];
    const std::uint64_t count = count_++;
    const std::uint32_t address = internal.address.host_order();
    const std::uint16_t port = internal.port.value;
    std::memcpy(input, &count, 8);
    input[8] = static_cast<unsigned char>(protocol);
    std::memcpy(input + 9, &address, 4);
    std::memcpy(input + 13, &port, 2);
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, input, sizeof input, key_.data());
    std::uint64_t value;
    std::memcpy(&value, out, sizeof value);
    return value;
}

}  // namespace gw
