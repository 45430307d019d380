#include "engine_command_queue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "base/startup_error.hpp"

namespace gw {

EngineCommandQueue::EngineCommandQueue() {
    event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (event_fd_ < 0) throw StartupError(std::string("cannot create the engine command queue's eventfd: ") + std::strerror(errno));
}

EngineCommandQueue::~EngineCommandQueue() { close(event_fd_); }

void EngineCommandQueue::push(EngineCommand command) {
    {
        std::lock_guard lock(mutex_);
        pending_.push_back(std::move(command));
    }
    std::uint64_t one = 1;
    // Only a full counter (2^64 - 2 wake-ups) could make this fail; nothing to do then.
    [[maybe_unused]] auto written = write(event_fd_, &one, sizeof one);
}

std::vector<EngineCommand> EngineCommandQueue::take() {
    std::uint64_t count = 0;
    [[maybe_unused]] auto read_bytes = read(event_fd_, &count, sizeof count);
    std::lock_guard lock(mutex_);
    std::vector<EngineCommand> taken;
    taken.swap(pending_);
    return taken;
}

}  // namespace gw
