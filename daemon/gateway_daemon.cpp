#include "gateway_daemon.hpp"

#include <linux/netfilter.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <string>

#include "drop_log.hpp"
#include "host_network.hpp"
#include "log.hpp"
#include "nat/translator.hpp"
#include "nfqueue_socket.hpp"
#include "queue_rules.hpp"
#include "startup_error.hpp"

namespace gw {
namespace {

constexpr Instant expiry_interval = std::chrono::seconds(1);

Instant monotonic_now() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return Instant(std::int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000);
}

// Rules and forwarding are undone on every exit path, exceptions included.
class PacketPathGuard {
public:
    explicit PacketPathGuard(const GatewayConfig& c) {
        if (auto error = install_queue_rules({c.lan_interface, c.wan_interface, c.queue_number}); !error.empty())
            throw StartupError("cannot install the queue rules: " + error);
        try {
            set_ip_forwarding(true);
        } catch (...) {
            remove_queue_rules();
            throw;
        }
    }
    ~PacketPathGuard() {
        // Fail closed: with the daemon gone nothing may cross untranslated.
        try {
            set_ip_forwarding(false);
        } catch (const StartupError& e) {
            log::error(e.what());
        }
        if (auto error = remove_queue_rules(); !error.empty()) log::error("cannot remove the queue rules: " + error);
    }
};

class SignalFd {
public:
    SignalFd() {
        sigemptyset(&mask_);
        for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask_, s);
        sigprocmask(SIG_BLOCK, &mask_, nullptr);
        fd_ = signalfd(-1, &mask_, SFD_NONBLOCK | SFD_CLOEXEC);
        if (fd_ < 0) throw StartupError("cannot create a signalfd");
    }
    ~SignalFd() { close(fd_); }
    int fd() const { return fd_; }
    // The next pending signal number, or 0.
    int take() {
        signalfd_siginfo info{};
        return read(fd_, &info, sizeof info) == sizeof info ? int(info.ssi_signo) : 0;
    }

private:
    sigset_t mask_{};
    int fd_ = -1;
};

void log_summary(const Translator& t, const NfQueueSocket& q) {
    const auto& c = t.counters();
    log::info("translated " + std::to_string(c.outbound_packets) + " packets out, " +
              std::to_string(c.inbound_packets) + " in; " + std::to_string(c.local_packets) +
              " for the gateway itself; " + std::to_string(c.drops.total()) + " dropped; " +
              std::to_string(c.mappings_created) + " mappings created, " + std::to_string(t.mappings().size()) +
              " live; queue overflows (ENOBUFS) " + std::to_string(q.counters().enobufs));
    for (std::size_t i = 1; i < drop_reason_count; ++i) {
        auto reason = DropReason(i);
        if (c.drops[reason] > 0)
            log::info("  " + std::string(drop_reason_name(reason)) + ": " + std::to_string(c.drops[reason]));
    }
}

QueueVerdict to_queue_verdict(Verdict v) {
    switch (v) {
        case Verdict::forward: return QueueVerdict::accept_rewritten;
        case Verdict::deliver_locally: return QueueVerdict::accept;
        case Verdict::drop: return QueueVerdict::drop;
    }
    return QueueVerdict::drop;
}

}  // namespace

NatConfig prepare_nat_config(const GatewayConfig& config) {
    for (const auto* name : {&config.lan_interface, &config.wan_interface})
        if (!interface_exists(*name)) throw StartupError("interface '" + *name + "' does not exist");
    NatConfig nat;
    if (config.wan_address) {
        nat.wan_address = *config.wan_address;
    } else {
        auto found = interface_ipv4_address(config.wan_interface);
        if (!found) throw StartupError("wan.address is auto but " + config.wan_interface + " has no IPv4 address");
        nat.wan_address = *found;
    }
    nat.port_range = config.port_range;
    nat.timeouts = config.timeouts;
    nat.max_mappings = config.max_mappings;
    return nat;
}

void run_gateway(const GatewayConfig& config) {
    NatConfig nat = prepare_nat_config(config);
    if (is_private_or_shared(nat.wan_address))
        log::warning("WAN address " + nat.wan_address.to_string() +
                     " is private or CGNAT space: another NAT sits upstream (double NAT)");
    if (auto local = local_port_range(); local && local->first <= nat.port_range.last && nat.port_range.first <= local->last)
        log::info("nat.port_range " + nat.port_range.to_string() + " overlaps the gateway's own ports " +
                  local->to_string() + "; a mapping takes precedence over a local socket on the same port");

    SignalFd signals;
    Translator translator(nat);
    DropLog drop_log;
    NfQueueSocket queue(config.queue_number);
    PacketPathGuard packet_path(config);
    log::info("translating " + config.lan_interface + " -> " + config.wan_interface + " as " +
              nat.wan_address.to_string() + ", ports " + nat.port_range.to_string() + ", queue " +
              std::to_string(config.queue_number));
    log::info("ready");

    auto decide = [&](QueuedPacket& packet) {
        Instant now = monotonic_now();
        if (packet.truncated) return QueueVerdict::drop;
        L4Checksum state = packet.checksum_not_ready ? L4Checksum::pseudo_header_only : L4Checksum::complete;
        bool inbound = packet.hook == NF_INET_PRE_ROUTING;
        TranslationResult result = inbound ? translator.translate_inbound(packet.payload, state, now)
                                           : translator.translate_outbound(packet.payload, state, now);
        if (result.verdict == Verdict::drop)
            drop_log.record(result.reason, inbound ? "inbound" : "outbound", packet.payload, now);
        // A rewritten packet goes back as CHECKSUM_NONE (nfqnl_mangle), so a partial
        // checksum must be finished here. GSO packets are spared the pass over 64 KiB:
        // software segmentation recomputes their pseudo-header checksum from the new
        // addresses (tcp4_gso_segment) and each segment is then finished as usual.
        if (result.verdict == Verdict::forward && packet.checksum_not_ready && !packet.gso)
            finish_partial_checksum(packet.payload);
        return to_queue_verdict(result.verdict);
    };

    Instant next_expiry = monotonic_now() + expiry_interval;
    for (bool running = true; running;) {
        pollfd fds[2] = {{queue.fd(), POLLIN, 0}, {signals.fd(), POLLIN, 0}};
        poll(fds, 2, int(expiry_interval.count()));
        if (fds[0].revents & POLLIN) queue.drain(decide);
        for (int signal; (signal = signals.take()) != 0;) {
            if (signal == SIGHUP) log::info("SIGHUP: configuration reload is not supported yet; keeping the running one");
            else running = false;
        }
        if (Instant now = monotonic_now(); now >= next_expiry) {
            translator.expire_idle(now);
            next_expiry = now + expiry_interval;
        }
    }
    log::info("stopping: removing queue rules, forwarding off");
    log_summary(translator, queue);
}

}  // namespace gw
