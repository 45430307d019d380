#include "daemon/port_control_server.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "base/log.hpp"
#include "base/startup_error.hpp"
#include "daemon/socket_address.hpp"
#include "firewall/address_checks.hpp"
#include "igd/engine_clock.hpp"
#include "igd/natpmp_responder.hpp"
#include "igd/pcp_message.hpp"

namespace gw {
namespace {

// RFC 6886 §3.2.1: ten announcements, the first at once, then 250 ms apart, doubling.
constexpr int announcement_count = 10;
constexpr std::chrono::milliseconds first_announcement_interval{250};
// PCP's largest message (RFC 6887 §7: 1100 bytes); NAT-PMP's are 12.
constexpr std::size_t max_request_bytes = pcp_max_message_size;

}  // namespace

PortControlServer::PortControlServer(PortControlServerOptions options, PortMappingService& mappings)
    : options_(std::move(options)), mappings_(mappings), external_address_(options_.external_address) {}

PortControlServer::~PortControlServer() {
    if (thread_.joinable()) {
        thread_.request_stop();
        std::uint64_t one = 1;
        [[maybe_unused]] auto written = write(wake_fd_, &one, sizeof one);
        thread_.join();
    }
    if (socket_ >= 0) close(socket_);
    if (wake_fd_ >= 0) close(wake_fd_);
}

void PortControlServer::start() {
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) throw StartupError("NAT-PMP/PCP: cannot create an eventfd: " + error_text(errno));
    socket_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (socket_ < 0) throw StartupError("NAT-PMP/PCP: cannot create a UDP socket: " + error_text(errno));
    // Bound to the LAN address: RFC 6886 §3 and RFC 6887 §8 want the server on the
    // internal side only; nothing on the WAN address answers.
    sockaddr_in local = socket_address(Endpoint{options_.lan_address, Port{options_.port}});
    if (bind(socket_, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0)
        throw StartupError("NAT-PMP/PCP: cannot bind " + options_.lan_address.to_string() + ":" +
                           std::to_string(options_.port) + ": " + error_text(errno));
    socklen_t local_length = sizeof local;
    getsockname(socket_, reinterpret_cast<sockaddr*>(&local), &local_length);
    bound_port_ = ntohs(local.sin_port);
    // Announcements leave by the LAN interface, link-local (TTL 1, the default), and are
    // not looped back to the gateway itself.
    ip_mreqn multicast{};
    multicast.imr_address.s_addr = htonl(options_.lan_address.host_order());
    multicast.imr_ifindex = int(if_nametoindex(options_.lan_interface.c_str()));
    if (setsockopt(socket_, IPPROTO_IP, IP_MULTICAST_IF, &multicast, sizeof multicast) != 0)
        throw StartupError("NAT-PMP/PCP: cannot send multicast out of " + options_.lan_interface + ": " +
                           error_text(errno));
    int no = 0;
    setsockopt(socket_, IPPROTO_IP, IP_MULTICAST_LOOP, &no, sizeof no);
    started_ = monotonic_now();
    log::info(std::string("NAT-PMP/PCP: serving ") + options_.lan_address.to_string() + ":" +
              std::to_string(bound_port_) + " (NAT-PMP " + (options_.natpmp_enabled ? "on" : "off") + ", PCP " +
              (pcp_handler_ ? "on" : "answered as unsupported") + ")");
    thread_ = std::jthread([this](std::stop_token stop) { serve(stop); });
    announce_external_address(options_.external_address);
}

void PortControlServer::announce_external_address(std::optional<Ipv4Address> address) {
    {
        std::lock_guard lock(mutex_);
        external_address_ = address;
        bool usable = address && address->host_order() != 0;
        bool anyone_to_tell = options_.natpmp_enabled || pcp_handler_;
        announcements_left_ = anyone_to_tell && usable ? announcement_count : 0;
        next_announcement_ = monotonic_now();
        announcement_interval_ = first_announcement_interval;
    }
    if (wake_fd_ >= 0) {
        std::uint64_t one = 1;
        [[maybe_unused]] auto written = write(wake_fd_, &one, sizeof one);
    }
}

PortControlCounts PortControlServer::counts() const {
    std::lock_guard lock(mutex_);
    return counts_;
}

std::uint32_t PortControlServer::epoch_seconds() const {
    return std::uint32_t((monotonic_now() - started_).count() / 1000);
}

PortControlContext PortControlServer::context() const {
    std::lock_guard lock(mutex_);
    return PortControlContext{external_address_, epoch_seconds()};
}

void PortControlServer::serve(std::stop_token stop) {
    while (!stop.stop_requested()) {
        int timeout_ms = -1;
        {
            std::lock_guard lock(mutex_);
            if (announcements_left_ > 0)
                timeout_ms = int(std::max<std::int64_t>(0, (next_announcement_ - monotonic_now()).count()));
        }
        pollfd fds[] = {{socket_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        if (poll(fds, 2, timeout_ms) < 0 && errno != EINTR) {
            log::error("NAT-PMP/PCP: poll failed: " + error_text(errno) + "; the server stops");
            return;
        }
        if (fds[1].revents & POLLIN) {
            std::uint64_t count = 0;
            [[maybe_unused]] auto read_bytes = read(wake_fd_, &count, sizeof count);
        }
        if (stop.stop_requested()) return;
        if (fds[0].revents & POLLIN) receive_one();
        send_due_announcements();
    }
}

void PortControlServer::receive_one() {
    // One octet more than the largest request: a longer datagram must reach the PCP
    // responder as too long (MALFORMED_REQUEST, RFC 6887 §8.2), not cut to a valid size.
    std::uint8_t buffer[max_request_bytes + 1];
    // Drains what is queued (a client retransmits; a flood must not starve announcements:
    // at most 64 before the loop looks at the clock again).
    for (int i = 0; i < 64; ++i) {
        sockaddr_in from{};
        socklen_t from_length = sizeof from;
        ssize_t n = recvfrom(socket_, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &from_length);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                log::warning("NAT-PMP/PCP: receive failed: " + error_text(errno));
            return;
        }
        if (from.sin_family != AF_INET) continue;
        Endpoint client{Ipv4Address(ntohl(from.sin_addr.s_addr)), Port{ntohs(from.sin_port)}};
        if (!is_inside(client.address, options_.lan_networks)) {
            // The socket is on the LAN address, but routing could still bring a WAN
            // packet to it: only LAN hosts may map ports.
            {
                std::lock_guard lock(mutex_);
                ++counts_.outside_lan;
            }
            log_refusal("NAT-PMP/PCP: request from " + to_string(client) + " outside the LAN dropped");
            continue;
        }
        auto response = answer(std::span<const std::uint8_t>(buffer, std::size_t(n)), client);
        if (!response.empty()) send_to(client, response);
    }
}

std::vector<std::uint8_t> PortControlServer::answer(std::span<const std::uint8_t> request, Endpoint client) {
    std::uint8_t version = request.empty() ? 0 : request[0];
    // RFC 6887 §9: the version byte tells the protocols apart. A PCP-only server (NAT-PMP
    // off) leaves version 0 to the PCP responder, which answers it as PCP requires.
    bool to_pcp = pcp_handler_ && (version == pcp_version || (version == natpmp_version && !options_.natpmp_enabled));
    if (!to_pcp && version == natpmp_version && !options_.natpmp_enabled) return {};
    if (to_pcp) {
        PortControlContext ctx = context();
        PortControlAnswer a = mappings_.with_policy([&](MappingPolicy& policy, Instant now) {
            return pcp_handler_(request, client, ctx, policy, now);
        });
        {
            std::lock_guard lock(mutex_);
            ++counts_.pcp_requests;
            if (a.pcp_result) ++counts_.pcp_results[std::size_t(*a.pcp_result)];
            else if (a.response.empty()) ++counts_.pcp_dropped;
        }
        if (!a.changes.empty())
            log::info("PCP: " + to_string(client) + ": " + std::to_string(a.changes.granted.size()) + " granted, " +
                      std::to_string(a.changes.removed.size()) + " removed");
        carry_upstream(a.response, a.changes, true);
        return std::move(a.response);
    }
    // NAT-PMP, and every version nobody here speaks: answer_natpmp replies Unsupported
    // Version (result 1) to those, which is what sends a PCP client back to NAT-PMP.
    return answer_natpmp_request(request, client);
}

std::vector<std::uint8_t> PortControlServer::answer_natpmp_request(std::span<const std::uint8_t> request,
                                                                   Endpoint client) {
    PortControlContext ctx = context();
    NatPmpAnswer a = mappings_.with_policy([&](MappingPolicy& policy, Instant now) {
        return answer_natpmp(request, client.address, ctx, policy, now);
    });
    {
        std::lock_guard lock(mutex_);
        ++counts_.natpmp_requests;
        if (a.response.empty()) ++counts_.natpmp_ignored;
        else ++counts_.natpmp_results[std::size_t(a.result)];
        if (a.result == NatPmpResult::unsupported_version) ++counts_.unsupported_version;
    }
    std::string who = "NAT-PMP: " + client.address.to_string() + ": ";
    if (!a.changes.empty()) log::info(who + a.decision);
    else if (a.response.empty() || a.result != NatPmpResult::success)
        log_refusal(who + a.decision + (a.response.empty() ? std::string(" (not answered)")
                                                          : " -> result " + std::to_string(int(a.result)) + " " +
                                                                std::string(natpmp_result_name(a.result))));
    else log::debug(who + a.decision);
    carry_upstream(a.response, a.changes, false);
    return std::move(a.response);
}

// RFC 7648 §4 for PCP (and the same for NAT-PMP): the client is told the upstream's
// address and port, since only they reach it from the internet. Both name a mapping by
// its internal port, so another upstream port is answered as it is.
void PortControlServer::carry_upstream(std::vector<std::uint8_t>& response, const MappingChanges& changes, bool pcp) {
    if (!upstream_ || changes.granted.empty() || response.empty()) return;
    const PortMapping& m = changes.granted.front();  // a MAP or NAT-PMP request grants one
    UpstreamOutcome outcome = upstream_->await_upstream({m.protocol, m.external}, UpstreamCarrier::grant_wait);
    UpstreamJudgement j = judge_upstream(outcome, m.external, upstream_->refusing_on_failure(), false, false);
    std::string what = std::string(pcp ? "PCP " : "NAT-PMP ") + std::string(protocol_name(m.protocol)) + " " +
                       std::to_string(m.external.value) + " for " + m.internal.address.to_string() + ": " + j.why;
    switch (j.kind) {
        case UpstreamJudgement::Kind::local:
            if (j.warn) upstream_->report_kept_without_upstream(what);
            return;
        case UpstreamJudgement::Kind::upstream:
            if (pcp) pcp_answer_upstream(response, outcome.external_address, outcome.external_port, outcome.lifetime_left);
            else natpmp_answer_upstream_port(response, outcome.external_port);
            return;
        case UpstreamJudgement::Kind::refuse:
            mappings_.delete_mapping_as_administrator(m.protocol, m.external);
            upstream_->report_refused_locally(what);
            if (pcp) pcp_answer_error(response, j.port_taken ? PcpResult::cannot_provide_external : PcpResult::no_resources);
            else natpmp_answer_error(response, j.port_taken ? NatPmpResult::out_of_resources : NatPmpResult::network_failure);
            return;
    }
}

void PortControlServer::send_to(Endpoint destination, std::span<const std::uint8_t> bytes) {
    sockaddr_in to = socket_address(destination);
    if (sendto(socket_, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) >= 0) return;
    int error = errno;
    std::uint64_t errors;
    {
        std::lock_guard lock(mutex_);
        errors = ++counts_.send_errors;
    }
    if (errors == 1 || errors % 1000 == 0)
        log::warning("NAT-PMP/PCP: cannot send to " + to_string(destination) + ": " + error_text(error) + " (" +
                     std::to_string(errors) + " send errors so far)");
}

// NAT-PMP's external address response and, with PCP on, PCP's unsolicited ANNOUNCE
// (RFC 6887 14.1.3: a new epoch tells PCP clients to renew their mappings), on one schedule.
void PortControlServer::send_due_announcements() {
    std::vector<std::uint8_t> announcement, pcp_announcement;
    {
        std::lock_guard lock(mutex_);
        Instant now = monotonic_now();
        if (announcements_left_ == 0 || now < next_announcement_ || !external_address_) return;
        --announcements_left_;
        next_announcement_ = now + announcement_interval_;
        announcement_interval_ *= 2;
        ++counts_.announcements;
        if (options_.natpmp_enabled)
            announcement =
                encode_natpmp_external_address_response(NatPmpResult::success, epoch_seconds(), *external_address_);
        if (pcp_handler_) pcp_announcement = encode_pcp_unsolicited_announce(epoch_seconds());
        if (announcements_left_ == announcement_count - 1)
            log::info(std::string(options_.natpmp_enabled ? "NAT-PMP: announcing external address " +
                                                                external_address_->to_string()
                                                          : std::string("PCP: announcing")) +
                      (pcp_handler_ && options_.natpmp_enabled ? " (and PCP ANNOUNCE)" : "") + " to " +
                      to_string(options_.announce_to) + " on " + options_.lan_interface);
    }
    if (!announcement.empty()) send_to(options_.announce_to, announcement);
    if (!pcp_announcement.empty()) send_to(options_.announce_to, pcp_announcement);
}

void PortControlServer::log_refusal(const std::string& line) { refusal_log_.write(line, monotonic_now()); }

}  // namespace gw
