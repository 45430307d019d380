// A thread whose loop waits in poll(2) on its sockets and on one more descriptor, the
// wake eventfd: stop() asks the loop to end (its std::stop_token) and wakes the poll, so
// a thread blocked on a quiet socket still ends at once. For the daemon's I/O threads
// (the metrics endpoint; SSDP, the neighbour watcher and the queue workers do the same
// by hand and may move here).
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <thread>
#include <utility>

#include "base/startup_error.hpp"
#include "socket_address.hpp"

namespace gw {

class WakeableThread {
public:
    // Creates the eventfd; throws StartupError if the kernel refuses one.
    explicit WakeableThread(const char* owner) : wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
        if (wake_fd_ < 0) throw StartupError(std::string(owner) + ": cannot create an eventfd: " + error_text(errno));
    }
    ~WakeableThread() {
        stop();
        close(wake_fd_);
    }
    WakeableThread(const WakeableThread&) = delete;
    WakeableThread& operator=(const WakeableThread&) = delete;

    // Runs loop(std::stop_token, int wake_fd) on the thread; the loop polls wake_fd with
    // its own descriptors and returns once the token says stop.
    template <class Loop>
    void start(Loop loop) {
        thread_ = std::jthread([this, loop = std::move(loop)](std::stop_token stop) mutable { loop(stop, wake_fd_); });
    }

    // Ends the loop and waits for it; nothing happens when it never started.
    void stop() {
        if (!thread_.joinable()) return;
        thread_.request_stop();
        std::uint64_t one = 1;
        [[maybe_unused]] auto written = write(wake_fd_, &one, sizeof one);
        thread_.join();
    }

private:
    int wake_fd_;
    std::jthread thread_;
};

}  // namespace gw
