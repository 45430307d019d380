// Tells the service manager (systemd, Type=notify) what the daemon is doing: ready,
// reloading, stopping, a one-line status, and watchdog keep-alives. A thin wrapper over
// libsystemd's sd_notify(3); when the daemon was not started by systemd (no
// NOTIFY_SOCKET), every call is a no-op, so the daemon runs the same in the foreground,
// in the lab and under systemd.
//
// Owned by the main loop's thread; not thread-safe (it need not be: only the main loop
// reports state).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace gw {

class ServiceNotifier {
public:
    // Reads the environment once: NOTIFY_SOCKET (are we under systemd?) and, through
    // sd_watchdog_enabled(3), WATCHDOG_USEC / WATCHDOG_PID. Keeps the variables in the
    // environment (unset_environment = 0) so a re-exec would still see them.
    ServiceNotifier();

    // READY=1 with a STATUS= line: the packet path is in place and the daemon is
    // translating. systemd only finishes `systemctl start` (and starts units ordered
    // after us) when this arrives. Also the answer that ends a reload.
    void ready(std::string_view status) const noexcept;

    // RELOADING=1: a SIGHUP reload has begun; call ready() when it is done (or has
    // been refused and the old configuration kept).
    void reloading(std::string_view status) const noexcept;

    // STOPPING=1: shutdown has begun (rules are being removed, forwarding turned off).
    void stopping(std::string_view status) const noexcept;

    // STATUS=: a one-line state shown by `systemctl status gatewayd`.
    void status(std::string_view text) const noexcept;

    // WATCHDOG=1: the main loop is alive. Call at least every watchdog_interval() / 2.
    void watchdog_ping() const noexcept;

    // The service's WatchdogSec as systemd passed it, or nullopt when the watchdog is
    // off (or we are not under systemd). The main loop should wake at half this.
    std::optional<std::chrono::microseconds> watchdog_interval() const noexcept { return watchdog_interval_; }

    // True when a NOTIFY_SOCKET was given: the daemon runs under a service manager.
    bool under_service_manager() const noexcept { return under_service_manager_; }

private:
    // Sends HEAD (NAME=VALUE lines) and, when STATUS is not empty, a STATUS= line.
    void send(std::string_view head, std::string_view status) const noexcept;

    bool under_service_manager_ = false;
    std::optional<std::chrono::microseconds> watchdog_interval_;
};

}  // namespace gw
