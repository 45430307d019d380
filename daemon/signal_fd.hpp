// SIGTERM, SIGINT and SIGHUP as a readable descriptor for the main loop's poll: they are
// blocked for the whole process from construction on (threads started later inherit the
// mask), so no handler runs at a random point of a thread.
#pragma once

#include <signal.h>

namespace gw {

class SignalFd {
public:
    SignalFd();  // throws StartupError
    ~SignalFd();
    SignalFd(const SignalFd&) = delete;
    SignalFd& operator=(const SignalFd&) = delete;

    int fd() const { return fd_; }
    // The next pending signal number, or 0.
    int take();

private:
    sigset_t mask_{};
    int fd_ = -1;
};

}  // namespace gw
