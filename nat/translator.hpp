// The NAPT engine: rewrites LAN packets leaving through the WAN to the WAN address
// (translate_outbound) and replies coming back to the LAN host that owns the mapping
// (translate_inbound), in place, in the caller's buffer.
//
// Pure: no I/O, no clock, no globals. Time comes in with every call, which is what
// lets the daemon, pcap replay and the unit tests run the very same code.
// Not thread safe: one Translator per packet worker.
#pragma once

#include <cstdint>
#include <span>

#include "drop_reason.hpp"
#include "endpoint_rewrite.hpp"
#include "fragment_table.hpp"
#include "mapping_table.hpp"
#include "nat_config.hpp"

namespace gw {

enum class Verdict : std::uint8_t {
    forward,          // translated in place: send it on
    deliver_locally,  // addressed to the gateway itself and not to any mapping: untouched
    drop,             // see reason
};

struct TranslationResult {
    Verdict verdict = Verdict::drop;
    DropReason reason = DropReason::none;
};

struct TranslatorCounters {
    DropCounters drops;
    std::uint64_t outbound_packets = 0, outbound_bytes = 0;
    std::uint64_t inbound_packets = 0, inbound_bytes = 0;
    std::uint64_t local_packets = 0;
    std::uint64_t mappings_created = 0;
    std::uint64_t mappings_expired = 0;
};

class Translator {
public:
    explicit Translator(const NatConfig& config);

    // A packet from the LAN on its way out of the WAN interface.
    TranslationResult translate_outbound(std::span<std::uint8_t> packet, L4Checksum state, Instant now) noexcept;
    // A packet that arrived on the WAN interface, before routing.
    TranslationResult translate_inbound(std::span<std::uint8_t> packet, L4Checksum state, Instant now) noexcept;

    // Reclaims idle mappings; the caller chooses the cadence (expiry is exact regardless).
    std::size_t expire_idle(Instant now) noexcept;

    // A snapshot; mappings_expired includes mappings found expired on lookup.
    TranslatorCounters counters() const;
    const MappingTable& mappings() const { return mappings_; }
    Ipv4Address wan_address() const { return config_.wan_address; }

private:
    TranslationResult outbound_transport(PacketView& packet, L4Checksum state, Instant now);
    TranslationResult outbound_icmp(PacketView& packet, Instant now);
    TranslationResult outbound_icmp_error(PacketView& packet, Instant now);
    TranslationResult inbound_transport(PacketView& packet, L4Checksum state, Instant now);
    TranslationResult inbound_icmp_error(PacketView& packet, Instant now);
    TranslationResult inbound_later_fragment(PacketView& packet, Instant now);

    TranslationResult forwarded_outbound(const PacketView& packet);
    TranslationResult forwarded_inbound(const PacketView& packet);
    TranslationResult delivered_locally();
    TranslationResult dropped(DropReason reason);

    NatConfig config_;
    MappingTable mappings_;
    FragmentTable fragments_;
    TranslatorCounters counters_;
};

}  // namespace gw
