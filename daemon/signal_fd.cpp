#include "daemon/signal_fd.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

#include "base/startup_error.hpp"

namespace gw {

SignalFd::SignalFd() {
    sigemptyset(&mask_);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask_, s);
    sigprocmask(SIG_BLOCK, &mask_, nullptr);
    fd_ = signalfd(-1, &mask_, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd_ < 0) throw StartupError("cannot create a signalfd");
}

SignalFd::~SignalFd() { close(fd_); }

int SignalFd::take() {
    signalfd_siginfo info{};
    return read(fd_, &info, sizeof info) == sizeof info ? int(info.ssi_signo) : 0;
}

}  // namespace gw
