// One thread per NFQUEUE queue: receive a batch, decide it under the engine lock, send
// its verdicts. The netlink I/O (microseconds per batch) runs in parallel on every
// worker; only the decisions (~100-150 ns a packet) are serialised, under ONE lock per
// batch, so both directions of a flow stay in one engine whatever queue the kernel's
// address hash picks for each (docs/architecture.md, Queues and workers).
//
// The worker owns its socket's receive side; the lock is shared with the main loop,
// which holds it for everything else that touches the engine.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <thread>

#include "nat/mapping.hpp"
#include "nfqueue_socket.hpp"

namespace gw {

// Where a worker's time goes, in nanoseconds; written by the worker, read by status.
struct WorkerTimings {
    // The sendmsg of the verdicts (the kernel forwards the packets in it). Not the receive:
    // it blocks until the batch arrives, so its time is mostly sleep (issue 17).
    std::atomic<std::uint64_t> io_ns{0};
    std::atomic<std::uint64_t> lock_wait_ns{0};  // waiting for the engine lock
    std::atomic<std::uint64_t> engine_ns{0};     // holding it: the batch's decisions
};

class QueueWorker {
public:
    // Called with the engine lock held, once per batch: one verdict per packet, in
    // order. `now` is read once for the whole batch.
    using DecideBatch = std::function<void(std::span<QueuedPacket>, std::span<QueueVerdict>, Instant now)>;

    // realtime_priority: 0 = the normal scheduler; 1-99 = SCHED_FIFO at that priority
    // (nfqueue.worker_priority).
    QueueWorker(NfQueueSocket& socket, std::mutex& engine_lock, DecideBatch decide, int realtime_priority = 0);
    ~QueueWorker();  // stops and joins
    QueueWorker(const QueueWorker&) = delete;
    QueueWorker& operator=(const QueueWorker&) = delete;

    // Throws StartupError when the real-time priority is refused (no CAP_SYS_NICE).
    void start();
    // Asks the thread to finish the batch in hand and joins it; packets still queued
    // stay in the kernel and are dropped when the queue is unbound (fail-closed).
    void stop();

    const NfQueueSocket& socket() const { return socket_; }
    const WorkerTimings& timings() const { return timings_; }

private:
    void run() noexcept;
    void handle_batch(std::span<QueuedPacket> packets);
    void report_overflows(Instant now);

    NfQueueSocket& socket_;
    std::mutex& engine_lock_;
    DecideBatch decide_;
    int realtime_priority_ = 0;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
    std::array<QueueVerdict, NfQueueSocket::batch_capacity> verdicts_{};
    WorkerTimings timings_;
    std::uint64_t overflows_logged_ = 0;
    Instant next_overflow_log_{0};
};

}  // namespace gw
