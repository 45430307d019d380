#include "checksum.hpp"

namespace gw {

std::uint32_t ones_complement_sum(std::span<const std::uint8_t> bytes, std::uint32_t initial) {
    std::uint64_t sum = initial;
    std::size_t i = 0;
    for (; i + 1 < bytes.size(); i += 2) sum += (std::uint32_t(bytes[i]) << 8) | bytes[i + 1];
    if (i < bytes.size()) sum += std::uint32_t(bytes[i]) << 8;
    return ChecksumDelta::fold(sum);
}

std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes) {
    return std::uint16_t(~ones_complement_sum(bytes));
}

std::uint16_t pseudo_header_sum(Ipv4Address source, Ipv4Address destination, Protocol protocol,
                                std::uint16_t l4_length) {
    std::uint64_t sum = (source.host_order() >> 16) + (source.host_order() & 0xffff) +
                        (destination.host_order() >> 16) + (destination.host_order() & 0xffff) +
                        std::uint8_t(protocol) + l4_length;
    return ChecksumDelta::fold(sum);
}

std::uint16_t pseudo_header_sum(const Ipv6Address& source, const Ipv6Address& destination, std::uint8_t next_header,
                                std::uint32_t upper_layer_length) {
    std::uint64_t sum = ones_complement_sum(source.bytes(), ones_complement_sum(destination.bytes()));
    sum += (upper_layer_length >> 16) + (upper_layer_length & 0xffff) + next_header;
    return ChecksumDelta::fold(sum);
}

}  // namespace gw
