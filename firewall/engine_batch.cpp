// A batch of packets judged with their flow lookups' cache misses overlapped.
//
// With a million flows the index entries and flow records are not in any cache, and a
// packet of a known flow waits on three misses in a row: its index entry, then the
// record it names, then the records of its idle-list neighbours (touch). One packet at
// a time the core sits idle through each (perf: ~60 % of bench/flow_memory's time in
// find_by_internal / find_by_external). Here each stage is first started for every
// packet of a group, so the group's misses are in flight together, and only then are
// the packets judged, one by one and in order, by the single-packet functions: the
// stages are hints that change nothing, so the results are exactly those of the calls
// made one after the other, even when an earlier packet adds or ends a later one's flow.
// A LAN packet whose index entry names no flow will likely insert one: its mapping (when
// its endpoint has one) gives the external port, and the index slots the insert fills
// are prefetched too (issue 17: +3 to +8 % on a replay of new flows only, bench/RESULTS.md).
#include <algorithm>
#include <optional>

#include "packet_engine.hpp"

namespace gw {
namespace {

// Enough packets that their misses cover each other's latency, few enough that the
// lines fetched for the first are still there when it is judged.
constexpr std::size_t group_size = 16;

// The tuple of an unfragmented TCP, UDP or ICMP echo packet read straight from its
// bytes, with only the checks that keep the reads inside the buffer: the real parse
// judges the packet later, this only picks what to prefetch. ICMP echo: the
// identifier on both sides.
struct PeekedTuple {
    Protocol protocol;
    Endpoint source, destination;
};

std::optional<PeekedTuple> peek_tuple(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < sizeof(wire::Ipv4Header)) return std::nullopt;
    const auto* ip = reinterpret_cast<const wire::Ipv4Header*>(bytes.data());
    const std::size_t l4 = ip->header_length();
    if (ip->version() != 4 || l4 < sizeof(wire::Ipv4Header) || ip->is_fragment() || bytes.size() < l4 + 8)
        return std::nullopt;
    const std::uint8_t* t = bytes.data() + l4;
    auto be16 = [&](std::size_t at) { return Port{std::uint16_t((t[at] << 8) | t[at + 1])}; };
    PeekedTuple tuple{Protocol(ip->protocol), {ip->source(), {}}, {ip->destination(), {}}};
    if (ip->protocol == std::uint8_t(Protocol::tcp) || ip->protocol == std::uint8_t(Protocol::udp)) {
        tuple.source.port = be16(0);
        tuple.destination.port = be16(2);
    } else if (ip->protocol == std::uint8_t(Protocol::icmp) &&
               (t[0] == wire::IcmpHeader::echo_request || t[0] == wire::IcmpHeader::echo_reply)) {
        tuple.source.port = tuple.destination.port = be16(4);
    } else {
        return std::nullopt;
    }
    return tuple;
}

}  // namespace

struct PacketEngine::StagedLookup {
    FlowTable::Key key = FlowTable::Key::internal;
    std::uint64_t hash = 0;
    bool started = false;
    bool from_lan = false;  // outbound: may start a flow on its internal endpoint's mapping
    FlowId candidate = 0;
    std::uint64_t mapping_hash = 0;  // from_lan: the internal endpoint's mapping's key
};

// Keys as lan_side_ends / wan_side_ends make them: the remote side of an echo has port 0.
void PacketEngine::start_lookup(const EnginePacket& packet, StagedLookup& staged) const noexcept {
    staged = {};
    if (packet.path != EnginePath::outbound && packet.path != EnginePath::inbound && packet.path != EnginePath::hairpin)
        return;
    std::optional<PeekedTuple> tuple = peek_tuple(packet.bytes);
    if (!tuple) return;
    const bool echo = tuple->protocol == Protocol::icmp;
    if (packet.path == EnginePath::inbound) {
        Endpoint remote{tuple->source.address, echo ? Port{} : tuple->source.port};
        staged.key = FlowTable::Key::external;
        staged.hash = flows_.prefetch_index_by_external(tuple->protocol, tuple->destination.port, remote);
    } else {
        Endpoint remote{tuple->destination.address, echo ? Port{} : tuple->destination.port};
        staged.key = FlowTable::Key::internal;
        staged.hash = flows_.prefetch_index_by_internal(tuple->protocol, tuple->source, remote);
        staged.from_lan = packet.path == EnginePath::outbound;
    }
    staged.started = true;
}

// No flow under the packet's key, as far as its index entry tells: a LAN packet will
// likely create one. Its external port is known before anything is created when its
// internal endpoint already holds a mapping (every flow of it but the first), so the
// index slots the insert will fill are asked for now, their misses overlapped with the
// group's others (perf: FlowTable::index, ~8 % of the replay, waited on them in turn).
// The tuple is peeked again (a few loads from bytes in the cache) rather than kept in
// every staged lookup: most packets are established flows' and never need it.
std::uint64_t PacketEngine::prefetch_mapping_index(const EnginePacket& packet) const noexcept {
    std::optional<PeekedTuple> tuple = peek_tuple(packet.bytes);
    return tuple ? mappings_.prefetch_index_by_internal(tuple->protocol, tuple->source) : 0;
}

void PacketEngine::prefetch_new_flow(const EnginePacket& packet) const noexcept {
    std::optional<PeekedTuple> tuple = peek_tuple(packet.bytes);
    if (!tuple) return;
    if (const Mapping* mapping = mappings_.find_by_internal(tuple->protocol, tuple->source)) {
        const bool echo = tuple->protocol == Protocol::icmp;
        Endpoint remote{tuple->destination.address, echo ? Port{} : tuple->destination.port};
        flows_.prefetch_new_flow_slots(tuple->protocol, mapping->external, remote);
    }
}

EngineResult PacketEngine::judge(const EnginePacket& packet, Instant now) noexcept {
    switch (packet.path) {
        case EnginePath::outbound: return translate_outbound(packet.bytes, packet.checksum, now);
        case EnginePath::inbound: return translate_inbound(packet.bytes, packet.checksum, now);
        case EnginePath::hairpin: return translate_hairpin(packet.bytes, packet.checksum, now, packet.link);
        case EnginePath::input_from_lan: return judge_input_from_lan(packet.bytes, now, packet.link);
        case EnginePath::local_output: return track_local_output(packet.bytes, now);
        case EnginePath::ipv6_outbound: return judge_ipv6_outbound(packet.bytes, now, packet.checksum);
        case EnginePath::ipv6_inbound: return judge_ipv6_inbound(packet.bytes, now, packet.checksum);
        case EnginePath::ipv6_input_from_lan: return judge_ipv6_input(packet.bytes, true, now, packet.checksum);
        case EnginePath::ipv6_input_from_outside: return judge_ipv6_input(packet.bytes, false, now, packet.checksum);
        case EnginePath::ipv6_local_output: return track_ipv6_local_output(packet.bytes, now);
    }
    return dropped(DropReason::unsupported_protocol);
}

void PacketEngine::judge_batch(std::span<const EnginePacket> packets, Instant now,
                               std::span<EngineResult> results) noexcept {
    std::array<StagedLookup, group_size> lookups;
    for (std::size_t first = 0; first < packets.size(); first += group_size) {
        const std::size_t count = std::min(group_size, packets.size() - first);
        for (std::size_t i = 0; i < count; ++i) start_lookup(packets[first + i], lookups[i]);
        for (std::size_t i = 0; i < count; ++i) {
            StagedLookup& l = lookups[i];
            if (!l.started) continue;
            l.candidate = flows_.prefetch_record(l.key, l.hash);
            // A likely new LAN flow: its mapping's index entry, then the mapping, then
            // (prefetch_new_flow) the flow index slots its port leads to.
            if (l.candidate == 0 && l.from_lan) l.mapping_hash = prefetch_mapping_index(packets[first + i]);
        }
        for (std::size_t i = 0; i < count; ++i) {
            if (lookups[i].candidate != 0) flows_.prefetch_idle_neighbours(lookups[i].candidate);
            else if (lookups[i].from_lan) mappings_.prefetch_mapping(lookups[i].mapping_hash);
        }
        for (std::size_t i = 0; i < count; ++i)
            if (lookups[i].candidate == 0 && lookups[i].from_lan) prefetch_new_flow(packets[first + i]);
        for (std::size_t i = 0; i < count; ++i) results[first + i] = judge(packets[first + i], now);
    }
}

}  // namespace gw
