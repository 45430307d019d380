#include "ip_identification.hpp"

#include <sodium.h>

#include <cstring>

#include "checksum.hpp"

namespace gw {

std::uint16_t IpIdentification::next(Ipv4Address destination, std::uint8_t protocol) noexcept {
    // A 6-byte message: never equal to PortDraw's 15-byte ones under the same key.
    unsigned char input[1 + 4 + 1] = {'I'};
    const std::uint32_t address = destination.host_order();
    std::memcpy(input + 1, &address, 4);
    input[5] = protocol;
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, input, sizeof input, key_.data());
    std::uint64_t hash;
    std::memcpy(&hash, out, sizeof hash);
    std::uint16_t& counter = counters_[hash & (buckets - 1)];
    return std::uint16_t(std::uint16_t(hash >> 32) + counter++);
}

void rewrite_identification(PacketView& packet, std::uint16_t identification) noexcept {
    wire::Ipv4Header& ip = *packet.ip;
    ChecksumDelta delta;
    delta.replace16(ip.identification(), identification);
    ip.identification_field.set(identification);
    ip.checksum.set(delta.apply_to_checksum(ip.checksum.get()));
}

}  // namespace gw
