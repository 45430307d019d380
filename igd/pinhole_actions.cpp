// WANIPv6FirewallControl:1 in the running IGD: who may ask (LAN hosts over IPv6 or
// IPv4), what each action does once its arguments are valid (the pinhole policy
// decides, the packet path opens, closes and counts), and the pinhole journal that
// keeps them across a restart.
#include <netinet/in.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>
#include <limits>
#include <memory>
#include <string>

#include "base/log.hpp"
#include "igd/engine_clock.hpp"
#include "igd/internet_gateway_device.hpp"
#include "igd/lease_file.hpp"
#include "igd/pinhole_file.hpp"

namespace gw {
namespace {

// The packet worker answers between batches; a batch takes microseconds, so a second
// means it is stuck or does not know pinholes (then the action answers 501).
constexpr auto packet_path_answer_limit = std::chrono::seconds(1);

// The requester as the pinhole policy names it: IPv6 as is, IPv4 as ::ffff:a.b.c.d.
// nullopt for a link-local address that did not arrive on the LAN interface: pupnp's
// IPv6 server listens on every interface, and a WAN neighbour's fe80:: address (which
// may copy a LAN host's interface identifier) must never pass for a LAN host's.
std::optional<Ipv6Address> pinhole_requester_of(const std::optional<sockaddr_storage>& client,
                                                unsigned lan_interface_index) {
    if (!client) return std::nullopt;
    const sockaddr_storage* address = &*client;
    if (address->ss_family == AF_INET)
        return v4_mapped(Ipv4Address(ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr)));
    if (address->ss_family != AF_INET6) return std::nullopt;
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    Ipv6Address::Bytes bytes{};
    std::memcpy(bytes.data(), &v6->sin6_addr, bytes.size());
    Ipv6Address requester(bytes);
    if (requester.is_link_local() && (lan_interface_index == 0 || v6->sin6_scope_id != lan_interface_index))
        return std::nullopt;
    return requester;
}

// A LAN host: an IPv4 address in the LAN networks, or an IPv6 one in the LAN prefixes
// or link-local on the LAN interface (checked by pinhole_requester_of).
bool on_lan(const Ipv6Address& requester, const IgdEnvironment& environment) {
    if (requester.is_v4_mapped()) {
        const auto& b = requester.bytes();
        Ipv4Address v4((std::uint32_t(b[12]) << 24) | (std::uint32_t(b[13]) << 16) | (std::uint32_t(b[14]) << 8) | b[15]);
        for (const auto& network : environment.lan_networks)
            if (network.contains(v4)) return true;
        return false;
    }
    if (requester.is_link_local()) return true;
    for (const auto& prefix : environment.lan_ipv6_networks)
        if (prefix.contains(requester)) return true;
    return false;
}

std::string protocol_text(std::uint16_t protocol) {
    if (protocol == ip_protocol_tcp) return "tcp";
    if (protocol == ip_protocol_udp) return "udp";
    if (protocol == any_ip_protocol) return "any";
    return "protocol " + std::to_string(protocol);
}

std::string describe(const Pinhole& p) {
    return protocol_text(p.protocol) + " [" + (p.remote_host ? p.remote_host->to_string() : std::string("*")) + "]:" +
           (p.remote_port ? std::to_string(p.remote_port) : std::string("*")) + " -> [" +
           p.internal_client.to_string() + "]:" + (p.internal_port ? std::to_string(p.internal_port) : std::string("*"));
}

SoapFault fault_of(PinholeRefusal refusal) { return SoapFault{upnp_error_of(refusal)}; }

}  // namespace

std::optional<Ipv6Address> InternetGatewayDevice::ipv6_lan_requester(const UpnpActionRequest* request) const {
    auto requester = pinhole_requester_of(client_of(request), environment_.lan_interface_index);
    if (!requester || requester->is_v4_mapped() || !on_lan(*requester, environment_)) return std::nullopt;
    return requester;
}

int InternetGatewayDevice::on_pinhole_action(UpnpActionRequest* request, const IgdService& service) {
    std::optional<Ipv6Address> requester = pinhole_requester_of(client_of(request), environment_.lan_interface_index);
    std::string action_name = UpnpActionRequest_get_ActionName_cstr(request);
    if (!requester || !on_lan(*requester, environment_)) {
        refusals_.count_outside_lan();
        refuse(request, SoapFault{UpnpError::action_not_authorized}, action_name + " from outside the LAN");
        return 0;
    }
    std::string what = action_name + " from " + requester->to_string();
    return answer_action(request, service, what, [&](const ActionCall& call) { return perform_pinhole(call, *requester); });
}

InternetGatewayDevice::ActionOutcome InternetGatewayDevice::perform_pinhole(const ActionCall& call,
                                                                            const Ipv6Address& requester) {
    const ActionArguments& args = call.arguments;
    switch (call.action->id) {
    case IgdActionId::get_firewall_status:
        return {{pinhole_policy_.firewall_enabled() ? "1" : "0", pinhole_policy_.inbound_allowed() ? "1" : "0"}, {}};
    case IgdActionId::get_outbound_pinhole_timeout: {
        auto timeout = pinhole_policy_.outbound_timeout(std::get<PinholeRequest>(args).protocol);
        if (auto* refusal = std::get_if<PinholeRefusal>(&timeout)) return {{}, fault_of(*refusal)};
        return {{std::to_string(std::get<std::uint32_t>(timeout))}, {}};
    }
    case IgdActionId::add_pinhole: return add_pinhole(std::get<PinholeRequest>(args), requester);
    case IgdActionId::update_pinhole: return update_pinhole(std::get<UpdatePinholeArgs>(args), requester);
    case IgdActionId::delete_pinhole: return delete_pinhole(std::get<PinholeIdArgs>(args).id, requester);
    case IgdActionId::get_pinhole_packets:
    case IgdActionId::check_pinhole_working:
        return pinhole_packets(call.action->id, std::get<PinholeIdArgs>(args).id, requester);
    default: return {{}, SoapFault{UpnpError::invalid_action}};
    }
}

InternetGatewayDevice::ActionOutcome InternetGatewayDevice::add_pinhole(const PinholeRequest& request,
                                                                        const Ipv6Address& requester) {
    std::lock_guard lock(pinhole_mutex_);
    Instant now = monotonic_now();
    auto outcome = pinhole_policy_.add(request, requester, now);
    if (auto* refusal = std::get_if<PinholeRefusal>(&outcome)) {  // counted and logged by refuse()
        log::debug("UPnP: pinhole refused for " + requester.to_string() + ": " +
                   std::to_string(int(upnp_error_of(*refusal))));
        return {{}, fault_of(*refusal)};
    }
    const PinholeLease& lease = std::get<PinholeLease>(outcome);
    commands_.push(OpenPinhole{lease.pinhole});
    record_pinholes(serialize_pinhole_line(lease, wall_clock_seconds(), now));
    log::info("UPnP: pinhole " + std::to_string(lease.pinhole.id) + " granted to " + requester.to_string() + ": " +
              describe(lease.pinhole) + ", lease " + std::to_string(remaining_seconds(lease, now)) + " s");
    return {{std::to_string(lease.pinhole.id)}, {}};
}

InternetGatewayDevice::ActionOutcome InternetGatewayDevice::update_pinhole(const UpdatePinholeArgs& args,
                                                                           const Ipv6Address& requester) {
    std::lock_guard lock(pinhole_mutex_);
    Instant now = monotonic_now();
    auto outcome = pinhole_policy_.update(args.id, args.lease_seconds, requester, now);
    if (auto* refusal = std::get_if<PinholeRefusal>(&outcome)) return {{}, fault_of(*refusal)};
    const PinholeLease& lease = std::get<PinholeLease>(outcome);
    record_pinholes(serialize_pinhole_line(lease, wall_clock_seconds(), now));
    log::info("UPnP: pinhole " + std::to_string(args.id) + " renewed by " + requester.to_string() + " for " +
              std::to_string(args.lease_seconds) + " s");
    return {{}, {}};
}

InternetGatewayDevice::ActionOutcome InternetGatewayDevice::delete_pinhole(std::uint16_t id,
                                                                           const Ipv6Address& requester) {
    std::lock_guard lock(pinhole_mutex_);
    auto outcome = pinhole_policy_.remove(id, requester, monotonic_now());
    if (auto* refusal = std::get_if<PinholeRefusal>(&outcome)) return {{}, fault_of(*refusal)};
    commands_.push(ClosePinhole{id});
    record_pinholes(serialize_pinhole_removal(id));
    log::info("UPnP: pinhole " + std::to_string(id) + " deleted by " + requester.to_string() + ": " +
              describe(std::get<PinholeLease>(outcome).pinhole));
    return {{}, {}};
}

InternetGatewayDevice::ActionOutcome InternetGatewayDevice::pinhole_packets(IgdActionId action, std::uint16_t id,
                                                                            const Ipv6Address& requester) {
    {
        // Not held while the packet path answers: its thread takes pinhole_mutex_ to expire leases.
        std::lock_guard lock(pinhole_mutex_);
        auto outcome = pinhole_policy_.owned(id, requester, monotonic_now());
        if (auto* refusal = std::get_if<PinholeRefusal>(&outcome)) return {{}, fault_of(*refusal)};
    }
    std::optional<std::uint64_t> packets = packets_let_in(id);
    if (!packets) return {{}, SoapFault{UpnpError::action_failed}};
    if (action == IgdActionId::check_pinhole_working) {
        if (auto refusal = PinholePolicy::working_verdict(*packets)) return {{}, fault_of(*refusal)};
        return {{"1"}, {}};
    }
    // A_ARG_TYPE_PinholePackets is a ui4: a count past it stays at its maximum.
    return {{std::to_string(std::min<std::uint64_t>(*packets, std::numeric_limits<std::uint32_t>::max()))}, {}};
}

std::optional<std::uint64_t> InternetGatewayDevice::packets_let_in(std::uint16_t id) {
    auto reply = std::make_shared<std::promise<std::optional<std::uint64_t>>>();
    auto answer = reply->get_future();
    commands_.push(QueryPinholePackets{id, std::move(reply)});
    // The command holds the only promise: a packet path that drops it unanswered breaks
    // the future at once instead of leaving the wait to time out.
    if (answer.wait_for(packet_path_answer_limit) != std::future_status::ready) {
        log::warning("UPnP: the packet path did not count pinhole " + std::to_string(id) + " within a second");
        return std::nullopt;
    }
    try {
        auto packets = answer.get();
        if (!packets) log::warning("UPnP: the packet path has no pinhole " + std::to_string(id));
        return packets;
    } catch (const std::future_error&) {
        log::warning("UPnP: the packet path dropped the count of pinhole " + std::to_string(id) + " unanswered");
        return std::nullopt;
    }
}

std::vector<PinholeLease> InternetGatewayDevice::pinholes() {
    std::lock_guard lock(pinhole_mutex_);
    return pinhole_policy_.all();
}

void InternetGatewayDevice::restore_pinholes() {
    const std::string& path = pinhole_journal_.path();
    Expected<std::string> file = read_lease_file(path);
    if (!file) log::warning("pinhole file " + path + ": " + file.error().message + "; starting without it");
    Instant now = monotonic_now();
    PinholeFileReadResult saved = parse_pinholes(file.value_or(""), wall_clock_seconds(), now, path);
    for (const auto& error : saved.errors) log::warning(error + " (line skipped, the others restored)");
    PinholeRestoreReport report = pinhole_policy_.restore(std::move(saved.pinholes), now);
    for (const auto& [lease, reason] : report.refused)
        log::warning("pinhole " + std::to_string(lease.pinhole.id) + " not restored: " +
                     std::string(upnp_error_description(upnp_error_of(reason))));
    for (const auto& lease : pinhole_policy_.all()) commands_.push(OpenPinhole{lease.pinhole});
    log::info("UPnP: restored " + std::to_string(report.restored) + " IPv6 pinholes from " + path + " (" +
              std::to_string(saved.expired + report.expired) + " had expired)");
    if (environment_.lan_ipv6_networks.empty()) {
        log::warning("UPnP: " + environment_.lan_interface + " has no IPv6 prefix: every AddPinhole will be refused (606)");
    } else {
        std::string prefixes;
        for (const auto& prefix : environment_.lan_ipv6_networks) prefixes += (prefixes.empty() ? "" : ", ") + prefix.to_string();
        log::info("UPnP: IPv6 pinholes for hosts in " + prefixes + (config_.pinholes.enabled ? "" : " (disabled: 702)"));
    }
    compact_pinhole_file();
    publish_next_pinhole_end();
}

void InternetGatewayDevice::expire_pinholes(Instant now) {
    std::vector<PinholeLease> ended = pinhole_policy_.expire(now);
    if (ended.empty()) return;
    std::string removals;
    for (const auto& lease : ended) {
        commands_.push(ClosePinhole{lease.pinhole.id});
        removals += serialize_pinhole_removal(lease.pinhole.id);
        log::info("UPnP: pinhole " + std::to_string(lease.pinhole.id) + " lease ended: " + describe(lease.pinhole));
    }
    record_pinholes(removals);
}

void InternetGatewayDevice::record_pinholes(std::string_view lines) {
    publish_next_pinhole_end();
    if (pinhole_journal_.wants_compaction(pinhole_policy_.size()) || !pinhole_journal_.is_open()) {
        compact_pinhole_file();
        return;
    }
    if (lines.empty()) return;
    if (auto error = pinhole_journal_.append(lines)) {
        log::error("pinhole file " + pinhole_journal_.path() + ": " + *error + "; rewriting it whole");
        compact_pinhole_file();
    }
}

void InternetGatewayDevice::compact_pinhole_file() {
    std::string text = serialize_pinholes(pinhole_policy_.all(), wall_clock_seconds(), monotonic_now());
    auto lines = std::size_t(std::count(text.begin(), text.end(), '\n'));
    if (auto error = pinhole_journal_.compact(text, lines))
        log::error("pinhole file " + pinhole_journal_.path() + ": " + *error + " (pinholes kept in memory)");
}

void InternetGatewayDevice::publish_next_pinhole_end() {
    auto next = pinhole_policy_.next_expiry();
    next_pinhole_end_ms_.store(next ? next->count() : no_pinhole_end, std::memory_order_relaxed);
}

void InternetGatewayDevice::expire_pinholes() {
    // The daemon's loop calls this every turn: it must not wait for a pupnp thread that
    // holds the lock through a journal fsync unless a lease has ended.
    if (monotonic_now().count() < next_pinhole_end_ms_.load(std::memory_order_relaxed)) return;
    std::lock_guard lock(pinhole_mutex_);
    expire_pinholes(monotonic_now());
}

std::optional<Instant> InternetGatewayDevice::next_pinhole_lease_end() const {
    auto ms = next_pinhole_end_ms_.load(std::memory_order_relaxed);
    if (ms == no_pinhole_end) return std::nullopt;
    return Instant(ms);
}

}  // namespace gw
