// Decides queued packets: picks the engine call from the hook and arrival interface,
// logs and answers what the engine asks for, finishes partial checksums, feeds a
// running capture. Everything it touches (engine, decision log, reject socket,
// capture slot) is shared by the queue workers: call it with the engine lock held.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "firewall/packet_engine.hpp"
#include "nfqueue_socket.hpp"

namespace gw {

class CaptureSlot;
class DecisionLog;
class LanNeighbours;
class RejectSender;

class PacketDecider {
public:
    PacketDecider(PacketEngine& engine, DecisionLog& decisions, RejectSender& rejects, CaptureSlot& captures,
                  std::uint32_t lan_interface_index)
        : engine_(engine), decisions_(decisions), rejects_(rejects), captures_(captures), lan_index_(lan_interface_index) {}

    // The LAN's neighbour table (lan_neighbours.hpp): with it, a packet from the LAN to
    // the gateway counts as its source host's only when its frame came from that host's
    // MAC. Set before the workers start; without it only the address is judged.
    void set_lan_neighbours(LanNeighbours* neighbours) { neighbours_ = neighbours; }

    // One verdict per packet, in order; `now` is the batch's one clock reading.
    void decide_batch(std::span<QueuedPacket> packets, std::span<QueueVerdict> verdicts, Instant now);
    QueueVerdict decide(QueuedPacket& packet, Instant now);

private:
    // The first bytes of a packet as it arrived, for the log and captures (the engine
    // rewrites the packet in place).
    struct ArrivedHead {
        std::array<std::uint8_t, 128> bytes;
        std::size_t length = 0;
        static ArrivedHead of(const QueuedPacket& packet);
    };
    // The engine entry point from the hook and arrival interface.
    EnginePacket engine_packet_of(QueuedPacket& packet, Instant now) const noexcept;
    // What the frame's source MAC says of a LAN packet's source address.
    LinkSource link_source_of(const QueuedPacket& packet, Instant now) const noexcept;
    // Logs, answers and finishes a judged packet; its verdict for the queue.
    QueueVerdict act_on(QueuedPacket& packet, const ArrivedHead& arrived, const EngineResult& result, Instant now);

    PacketEngine& engine_;
    DecisionLog& decisions_;
    RejectSender& rejects_;
    CaptureSlot& captures_;
    std::uint32_t lan_index_;
    LanNeighbours* neighbours_ = nullptr;
};

}  // namespace gw
