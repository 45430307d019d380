#include "service_notifier.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/log.hpp"

namespace gw {
namespace {

// STATUS= is one line: a newline would end the assignment and start a bogus one.
std::string one_line(std::string_view text) {
    std::string line(text);
    for (char& c : line)
        if (c == '\n' || c == '\r') c = ' ';
    return line;
}

std::string monotonic_usec() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::to_string(std::uint64_t(ts.tv_sec) * 1000000 + std::uint64_t(ts.tv_nsec) / 1000);
}

}  // namespace

ServiceNotifier::ServiceNotifier() {
    const char* socket = std::getenv("NOTIFY_SOCKET");
    under_service_manager_ = socket != nullptr && *socket != '\0';
    std::uint64_t usec = 0;
    // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID, if set, is our pid.
    if (under_service_manager_ && sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
        watchdog_interval_ = std::chrono::microseconds(usec);
}

void ServiceNotifier::send(std::string_view head, std::string_view status) const noexcept {
    if (!under_service_manager_) return;
    try {
        std::string message(head);
        if (!status.empty()) message += (message.empty() ? "STATUS=" : "\nSTATUS=") + one_line(status);
        // sd_notify returns < 0 on a send error: not worth stopping a gateway for, but
        // worth a line (a lost READY=1 makes systemd time the start out).
        if (int r = sd_notify(0, message.c_str()); r < 0)
            log::warning("sd_notify failed: " + std::string(std::strerror(-r)));
    } catch (...) {
        // Allocation failure while building the message: this notification is lost and
        // the daemon goes on; the watchdog tells systemd if the loop is really stuck.
    }
}

void ServiceNotifier::ready(std::string_view status) const noexcept { send("READY=1", status); }

void ServiceNotifier::reloading(std::string_view status) const noexcept {
    // MONOTONIC_USEC= lets systemd (253+, Type=notify-reload) tie this message to the
    // reload it asked for; older versions ignore it.
    if (!under_service_manager_) return;
    try {
        send("RELOADING=1\nMONOTONIC_USEC=" + monotonic_usec(), status);
    } catch (...) {
    }
}

void ServiceNotifier::stopping(std::string_view status) const noexcept { send("STOPPING=1", status); }

void ServiceNotifier::status(std::string_view text) const noexcept { send({}, text); }

void ServiceNotifier::watchdog_ping() const noexcept {
    if (watchdog_interval_) send("WATCHDOG=1", {});
}

}  // namespace gw
