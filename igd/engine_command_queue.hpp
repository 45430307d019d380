// Changes the control plane (UPnP, NAT-PMP, PCP) asks of the packet path. The front
// ends never touch the engine: they post commands here, and the daemon's main loop,
// woken by fd(), applies them under the engine lock, between the packet workers'
// batches (STYLE 4: messages, not shared locks). Any thread may push; one thread (the
// main loop) takes.
#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <variant>
#include <vector>

#include "firewall/forward_table.hpp"
#include "firewall/pinhole.hpp"

namespace gw {

struct OpenPortMapping {
    DynamicForward mapping;
};

struct ClosePortMapping {
    Protocol protocol = Protocol::tcp;
    Port external;
};

// IPv6 pinholes (issue 8). Opening an id already open replaces it (UpdatePinhole keeps
// the id; the lease lives in the control plane, which closes it when it ends).
struct OpenPinhole {
    Pinhole pinhole;
};

struct ClosePinhole {
    std::uint16_t id = 0;
};

// GetPinholePackets / CheckPinholeWorking: the packet path answers with how many
// packets the pinhole has let in (nullopt: no such pinhole), between batches.
struct QueryPinholePackets {
    std::uint16_t id = 0;
    std::shared_ptr<std::promise<std::optional<std::uint64_t>>> reply;
};

using EngineCommand = std::variant<OpenPortMapping, ClosePortMapping, OpenPinhole, ClosePinhole, QueryPinholePackets>;

class EngineCommandQueue {
public:
    EngineCommandQueue();  // throws StartupError when no eventfd can be made
    ~EngineCommandQueue();
    EngineCommandQueue(const EngineCommandQueue&) = delete;
    EngineCommandQueue& operator=(const EngineCommandQueue&) = delete;

    void push(EngineCommand command);
    // Everything pushed so far, in order; clears the wake-up.
    std::vector<EngineCommand> take();
    // Readable when commands are waiting: poll it beside the queue socket.
    int fd() const { return event_fd_; }

private:
    std::mutex mutex_;
    std::vector<EngineCommand> pending_;
    int event_fd_ = -1;
};

}  // namespace gw
