#include "stderr_capture.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <exception>
#include <chrono>
#include <cstring>

#include "firewall/rate_limiter.hpp"
#include "base/log.hpp"
#include "base/startup_error.hpp"

namespace gw {
namespace {

// Sanitizer reports (ASan, UBSan: GCC loads each runtime as its own library, each with
// its own report file) go to `fd`, never into the pipe: a sanitizer that halts the
// process right after its report would take the report down with the reader thread.
void send_sanitizer_reports_to(int fd) {
    dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t, void* data) {
            std::string_view name = info->dlpi_name ? info->dlpi_name : "";
            if (name.find("san.so") == std::string_view::npos) return 0;  // libasan.so.8, libubsan.so.1...
            void* library = dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
            if (!library) return 0;
            using SetReportFd = void (*)(void*);
            if (auto set = reinterpret_cast<SetReportFd>(dlsym(library, "__sanitizer_set_report_fd")))
                set(reinterpret_cast<void*>(static_cast<std::intptr_t>(*static_cast<int*>(data))));
            dlclose(library);
            return 0;
        },
        &fd);
}

// The real stderr, for the terminate handler: a dying process's last words ("terminate
// called after throwing ...") written into the pipe would die with the reader thread.
std::atomic<int> real_stderr{-1};
std::terminate_handler previous_terminate = nullptr;

[[noreturn]] void terminate_on_real_stderr() {
    if (int fd = real_stderr.load(); fd >= 0) dup2(fd, STDERR_FILENO);
    if (previous_terminate) previous_terminate();
    std::abort();
}

Instant steady_now() {
    return std::chrono::duration_cast<Instant>(std::chrono::steady_clock::now().time_since_epoch());
}

}  // namespace

StderrCapture::StderrCapture(std::string prefix) : prefix_(std::move(prefix)) {
    original_fd_ = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    int pipe_fds[2];
    if (original_fd_ < 0 || pipe2(pipe_fds, O_CLOEXEC) != 0)
        throw StartupError(std::string("cannot capture stderr: ") + std::strerror(errno));
    log::set_output_fd(original_fd_);
    real_stderr.store(original_fd_);
    previous_terminate = std::set_terminate(terminate_on_real_stderr);
    send_sanitizer_reports_to(original_fd_);
    // dup2 clears close-on-exec on fd 2: commands we run write their errors to it as before.
    dup2(pipe_fds[1], STDERR_FILENO);
    close(pipe_fds[1]);
    read_fd_ = pipe_fds[0];
    reader_ = std::thread([this] { read_lines(); });
}

StderrCapture::~StderrCapture() {
    // The pipe's last write end goes with this dup2: the reader sees end of file, having
    // logged everything written before.
    dup2(original_fd_, STDERR_FILENO);
    if (reader_.joinable()) reader_.join();
    log::set_output_fd(STDERR_FILENO);
    std::set_terminate(previous_terminate);
    real_stderr.store(-1);
    send_sanitizer_reports_to(STDERR_FILENO);
    close(read_fd_);
    // original_fd_ stays open: another thread may have read it as the log's fd just before
    // the switch back and still be writing its line there.
}

std::string StderrCapture::line_text(std::string_view raw) {
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    std::string text(raw.substr(0, max_line_bytes));
    for (char& c : text)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return text;
}

void StderrCapture::read_lines() noexcept {
    RateLimiter limiter(RateLimit{lines_per_second, burst, 0});
    std::uint64_t held_back = 0;
    std::string pending;
    char buffer[4096];
    auto emit = [&](std::string_view raw) {
        Instant now = steady_now();
        if (!limiter.admit(now)) {
            ++held_back;
            return;
        }
        if (held_back != 0) {
            log::warning(prefix_ + std::to_string(held_back) + " more line(s) held back (rate limit " +
                         std::to_string(lines_per_second) + "/s)");
            held_back = 0;
        }
        log::warning(prefix_ + line_text(raw));
    };
    auto report_held_back = [&] {
        if (held_back == 0 || !limiter.admit(steady_now())) return;
        log::warning(prefix_ + std::to_string(held_back) + " more line(s) held back (rate limit " +
                     std::to_string(lines_per_second) + "/s)");
        held_back = 0;
    };
    for (;;) {
        // A second of quiet says how many lines the last burst lost.
        pollfd readable{read_fd_, POLLIN, 0};
        if (poll(&readable, 1, 1000) == 0) {
            report_held_back();
            continue;
        }
        ssize_t n = read(read_fd_, buffer, sizeof buffer);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) break;
        pending.append(buffer, std::size_t(n));
        std::size_t start = 0;
        for (std::size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1)
            emit(std::string_view(pending).substr(start, end - start));
        pending.erase(0, start);
        // A line that never ends is cut, not buffered without bound.
        if (pending.size() > max_line_bytes) {
            emit(pending);
            pending.clear();
        }
    }
    if (!pending.empty()) emit(pending);
    if (held_back != 0) log::warning(prefix_ + std::to_string(held_back) + " more line(s) held back at exit");
}

}  // namespace gw
