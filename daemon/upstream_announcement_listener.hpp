// The socket that hears the NAT upstream announce a restart (issue 19, RFC 7648 §5,
// RFC 6887 §14.1.3, RFC 6886 §3.2.1): UDP port 5350 on the WAN device, a member of
// 224.0.0.1 there. Each datagram is judged by igd/upstream_announcement.hpp against the
// server the worker uses; the server's announcement makes the worker claim every upstream
// half again at once (UpstreamWorker::upstream_restarted) instead of at the next renewal.
// Anything else is counted by the worker (announcement_ignored) and logged, rate-limited.
//
// The engine lets these in from the WAN (PacketEngine::announces_from_upstream, engine_local.cpp):
// without that the group's datagrams die as not_addressed_to_gateway and the unicast ones
// under the input policy.
//
// Threads: its own small thread, polling the socket and a wake fd (wakeable_thread.hpp).
// Failing to open the socket is not fatal: the upstream's restart is then seen from the
// epoch of its next answer, as before; start() says why in a warning.
#pragma once

#include <string>

#include "daemon/wakeable_thread.hpp"
#include "igd/refusal_log.hpp"

namespace gw {

class UpstreamWorker;

class UpstreamAnnouncementListener {
public:
    UpstreamAnnouncementListener(std::string wan_interface, UpstreamWorker& worker);
    ~UpstreamAnnouncementListener();  // stops the thread first
    UpstreamAnnouncementListener(const UpstreamAnnouncementListener&) = delete;
    UpstreamAnnouncementListener& operator=(const UpstreamAnnouncementListener&) = delete;

    // Opens the socket and starts the thread; a warning and nothing else when it cannot.
    void start();

private:
    bool open_socket();
    void read_datagrams();

    std::string wan_interface_;
    UpstreamWorker& worker_;
    int socket_ = -1;
    RefusalLog ignored_log_;
    WakeableThread thread_{"upstream announcements"};  // last: stops first
};

}  // namespace gw
