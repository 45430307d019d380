// Internet checksum arithmetic: incremental updates per RFC 1624 and a full
// computation (used by tests as the independent oracle, and for IP header checks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "endpoint.hpp"
#include "ipv6_address.hpp"

namespace gw {

// Collects the changes made to 16-bit words covered by one checksum, then applies
// them all at once: RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m').
class ChecksumDelta {
public:
    void replace16(std::uint16_t old_word, std::uint16_t new_word) {
        sum_ += std::uint16_t(~old_word);
        sum_ += new_word;
    }
    void replace32(std::uint32_t old_value, std::uint32_t new_value) {
        replace16(std::uint16_t(old_value >> 16), std::uint16_t(new_value >> 16));
        replace16(std::uint16_t(old_value), std::uint16_t(new_value));
    }
    void replace_address(Ipv4Address old_address, Ipv4Address new_address) {
        replace32(old_address.host_order(), new_address.host_order());
    }
    void add(const ChecksumDelta& other) { sum_ += other.sum_; }

    // For a finished (complemented) checksum field.
    std::uint16_t apply_to_checksum(std::uint16_t checksum) const {
        return std::uint16_t(~fold(std::uint16_t(~checksum) + std::uint64_t(sum_)));
    }
    // For a field that holds a plain, not complemented, partial sum: what the kernel
    // leaves in the TCP/UDP checksum of a CHECKSUM_PARTIAL packet (the pseudo-header
    // sum; the device or the stack adds the payload later).
    std::uint16_t apply_to_partial_sum(std::uint16_t partial_sum) const {
        return fold(partial_sum + std::uint64_t(sum_));
    }

    static std::uint16_t fold(std::uint64_t sum) {
        while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
        return std::uint16_t(sum);
    }

private:
    std::uint64_t sum_ = 0;
};

// Ones-complement sum of a byte range (big-endian words, odd byte padded), not complemented.
std::uint32_t ones_complement_sum(std::span<const std::uint8_t> bytes, std::uint32_t initial = 0);

// The finished Internet checksum of a byte range (RFC 1071).
std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes);

// The TCP/UDP pseudo-header sum (source, destination, protocol, length), folded, not complemented.
std::uint16_t pseudo_header_sum(Ipv4Address source, Ipv4Address destination, Protocol protocol,
                                std::uint16_t l4_length);
// RFC 8200 §8.1's: source, destination, upper-layer length, next header; folded, not complemented.
std::uint16_t pseudo_header_sum(const Ipv6Address& source, const Ipv6Address& destination, std::uint8_t next_header,
                                std::uint32_t upper_layer_length);

}  // namespace gw
