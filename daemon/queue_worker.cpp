#include "queue_worker.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include "igd/engine_clock.hpp"
#include "base/log.hpp"
#include "base/startup_error.hpp"

namespace gw {
namespace {

// ENOBUFS is summarised at most this often: a flood must not become a log flood.
constexpr Instant overflow_log_interval = std::chrono::seconds(60);

std::int64_t nanoseconds_now() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void add(std::atomic<std::uint64_t>& total, std::int64_t ns) {
    total.store(total.load(std::memory_order_relaxed) + std::uint64_t(ns), std::memory_order_relaxed);  // one writer
}

}  // namespace

QueueWorker::QueueWorker(NfQueueSocket& socket, std::mutex& engine_lock, DecideBatch decide)
    : socket_(socket), engine_lock_(engine_lock), decide_(std::move(decide)) {
    stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (stop_fd_ < 0) throw StartupError("cannot create an eventfd for queue worker " +
                                         std::to_string(socket.queue_number()));
}

QueueWorker::~QueueWorker() {
    stop();
    close(stop_fd_);
}

void QueueWorker::start() { thread_ = std::thread([this] { run(); }); }

void QueueWorker::stop() {
    if (!thread_.joinable()) return;
    stopping_.store(true);
    std::uint64_t one = 1;
    [[maybe_unused]] auto written = write(stop_fd_, &one, sizeof one);
    thread_.join();
}

void QueueWorker::run() noexcept {
    pollfd fds[] = {{socket_.fd(), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    while (!stopping_.load(std::memory_order_relaxed)) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR) {
            log::error("queue " + std::to_string(socket_.queue_number()) + ": poll failed: " + std::strerror(errno));
            return;
        }
        // Drain before polling again: under load poll would only say what we know.
        while (!stopping_.load(std::memory_order_relaxed)) {
            std::int64_t started = nanoseconds_now();
            std::span<QueuedPacket> packets = socket_.receive_batch();
            if (packets.empty()) break;
            handle_batch(packets, started);
        }
    }
}

void QueueWorker::handle_batch(std::span<QueuedPacket> packets, std::int64_t receive_started) {
    std::int64_t received = nanoseconds_now();
    std::span<QueueVerdict> verdicts(verdicts_.data(), packets.size());
    std::int64_t locked, decided;
    Instant now;
    {
        std::lock_guard lock(engine_lock_);
        locked = nanoseconds_now();
        now = Instant(locked / 1'000'000);  // monotonic_now(), from the same clock read
        decide_(packets, verdicts, now);
        decided = nanoseconds_now();
    }
    socket_.send_verdicts(verdicts);
    std::int64_t sent = nanoseconds_now();
    add(timings_.io_ns, (received - receive_started) + (sent - decided));
    add(timings_.lock_wait_ns, locked - received);
    add(timings_.engine_ns, decided - locked);
    report_overflows(now);
}

void QueueWorker::report_overflows(Instant now) {
    std::uint64_t overflows = socket_.counters().enobufs.load(std::memory_order_relaxed);
    if (overflows == overflows_logged_ || now < next_overflow_log_) return;
    log::warning("queue " + std::to_string(socket_.queue_number()) + ": the kernel dropped packets for want of " +
                 "socket buffer (ENOBUFS), " + std::to_string(overflows - overflows_logged_) +
                 " time(s) since the last report; raise nfqueue.socket_buffer_bytes or nfqueue.workers");
    overflows_logged_ = overflows;
    next_overflow_log_ = now + overflow_log_interval;
}

}  // namespace gw
