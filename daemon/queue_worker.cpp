#include "queue_worker.hpp"

#include <pthread.h>
#include <sched.h>
#include <time.h>

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

QueueWorker::QueueWorker(NfQueueSocket& socket, std::mutex& engine_lock, DecideBatch decide, int realtime_priority)
    : socket_(socket), engine_lock_(engine_lock), decide_(std::move(decide)), realtime_priority_(realtime_priority) {}

QueueWorker::~QueueWorker() { stop(); }

void QueueWorker::start() {
    thread_ = std::thread([this] { run(); });
    if (realtime_priority_ == 0) return;
    // Woken by a queued packet, a SCHED_FIFO worker preempts whatever ordinary task holds
    // the CPU; under the normal scheduler it waited 10-120 us for its turn on a busy
    // machine (issue 17, bench/RESULTS.md).
    sched_param parameters{};
    parameters.sched_priority = realtime_priority_;
    if (int error = pthread_setschedparam(thread_.native_handle(), SCHED_FIFO, &parameters); error != 0) {
        stop();
        throw StartupError("cannot give queue worker " + std::to_string(socket_.queue_number()) +
                           " the real-time priority " + std::to_string(realtime_priority_) +
                           " (nfqueue.worker_priority): " + std::strerror(error));
    }
}

void QueueWorker::stop() {
    if (!thread_.joinable()) return;
    stopping_.store(true);
    socket_.wake();
    thread_.join();
}

void QueueWorker::run() noexcept {
    while (!stopping_.load(std::memory_order_relaxed)) {
        std::span<QueuedPacket> packets = socket_.receive_batch();
        if (!packets.empty()) handle_batch(packets);
    }
}

void QueueWorker::handle_batch(std::span<QueuedPacket> packets) {
    // From the receive's return: the receive itself includes the sleep before the batch.
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
    add(timings_.io_ns, sent - decided);
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
