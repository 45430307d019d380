// The administrator's openings in the mapping service: gatewayctl's timed forwards and the
// ports static forwards hold. Decided under the same lock as every grant and sent down the
// same command queue, so a timed forward and a grant never take one port (ForwardTable::open
// would let the later replace the earlier), and nothing is opened on a port a static forward
// is about to own (the engine would refuse it after the client was told it succeeded).
#include <algorithm>

#include "igd/port_mapping_service.hpp"

namespace gw {
namespace {

bool held_by(const std::vector<std::pair<Protocol, PortRange>>& ports, Protocol protocol, Port port) {
    return std::any_of(ports.begin(), ports.end(),
                       [&](const auto& p) { return p.first == protocol && p.second.contains(port); });
}

std::string port_text(Protocol protocol, Port port) {
    return std::string(protocol_name(protocol)) + " " + std::to_string(port.value);
}

}  // namespace

void PortMappingService::reserve_forward_ports() {
    auto reserved = static_ports_;
    std::optional<Instant> next;
    for (const auto& t : timed_) {
        reserved.emplace_back(t.forward.protocol, PortRange{t.forward.external.value, t.forward.external.value});
        if (!next || t.expires < *next) next = t.expires;
    }
    policy_.set_reserved(std::move(reserved));
    next_forward_end_ms_.store(next ? next->count() : no_lease_end, std::memory_order_relaxed);
}

StaticForwardsTaken PortMappingService::use_static_forwards(std::vector<std::pair<Protocol, PortRange>> static_ports) {
    std::lock_guard lock(mutex_);
    Instant now = clock_.now();
    static_ports_ = std::move(static_ports);
    StaticForwardsTaken taken;
    MappingChanges changes;
    for (const auto& m : policy_.all()) {
        if (!held_by(static_ports_, m.protocol, m.external)) continue;
        // As its owner: the static forward stands above every client. A lease already
        // over is refused here and closed by expire_leases().
        if (!policy_.remove(m.protocol, m.external, m.remote_host, m.owner, now)) changes.removed.push_back(m);
    }
    std::erase_if(timed_, [&](const TimedForward& t) {
        if (!held_by(static_ports_, t.forward.protocol, t.forward.external)) return false;
        commands_.push(ClosePortMapping{t.forward.protocol, t.forward.external});
        taken.forwards.push_back(t);
        return true;
    });
    reserve_forward_ports();
    carry_out(changes, now);  // the packet path, the journal and the listeners (GENA) alike
    taken.mappings = std::move(changes.removed);
    return taken;
}

Expected<TimedForward, Error> PortMappingService::open_timed_forward(std::string name, DynamicForward forward,
                                                                     std::chrono::seconds duration) {
    std::lock_guard lock(mutex_);
    Instant now = clock_.now();
    const std::string port = port_text(forward.protocol, forward.external);
    if (forward.protocol != Protocol::tcp && forward.protocol != Protocol::udp)
        return unexpected(Error{"a forward is for tcp or udp"});
    for (const auto& t : timed_) {
        if (t.name == name) return unexpected(Error{"a timed forward is already named '" + name + "'"});
        if (t.forward.protocol == forward.protocol && t.forward.external == forward.external)
            return unexpected(Error{port + " is held by the timed forward " + t.name});
    }
    if (held_by(static_ports_, forward.protocol, forward.external))
        return unexpected(Error{port + " is owned by a static forward"});
    // A lease over but not collected yet would close this port when it is: collect now.
    MappingChanges ended;
    ended.removed = policy_.expire(now);
    carry_out(ended, now);
    // A granted mapping counts even before the packet path has it: its OpenPortMapping may
    // still wait in the queue, and would replace this forward there.
    if (!policy_.list(forward.protocol, PortRange{forward.external.value, forward.external.value}, 1, now).empty())
        return unexpected(Error{port + " is held by a port mapping (UPnP, NAT-PMP or PCP)"});
    TimedForward opened{std::move(name), forward, now + duration};
    commands_.push(OpenPortMapping{forward});
    timed_.push_back(opened);
    reserve_forward_ports();
    return opened;
}

Expected<TimedForward, Error> PortMappingService::close_timed_forward(std::string_view name) {
    std::lock_guard lock(mutex_);
    auto it = std::find_if(timed_.begin(), timed_.end(), [&](const TimedForward& t) { return t.name == name; });
    if (it == timed_.end()) {
        std::string names;
        for (const auto& t : timed_) names += (names.empty() ? "" : ", ") + t.name;
        return unexpected(Error{"no timed forward is named '" + std::string(name) + "' (" +
                                (names.empty() ? std::string("there are none") : "timed forwards: " + names) + ")"});
    }
    TimedForward closed = *it;
    commands_.push(ClosePortMapping{closed.forward.protocol, closed.forward.external});
    timed_.erase(it);
    reserve_forward_ports();
    return closed;
}

std::vector<TimedForward> PortMappingService::expire_timed_forwards() {
    // The daemon's loop calls this every turn: no lock until a forward's time is up.
    if (clock_.now().count() < next_forward_end_ms_.load(std::memory_order_relaxed)) return {};
    std::lock_guard lock(mutex_);
    Instant now = clock_.now();
    std::vector<TimedForward> ended;
    std::erase_if(timed_, [&](const TimedForward& t) {
        if (now < t.expires) return false;
        commands_.push(ClosePortMapping{t.forward.protocol, t.forward.external});
        ended.push_back(t);
        return true;
    });
    reserve_forward_ports();
    return ended;
}

std::optional<Instant> PortMappingService::next_forward_end() const {
    auto ms = next_forward_end_ms_.load(std::memory_order_relaxed);
    if (ms == no_lease_end) return std::nullopt;
    return Instant(ms);
}

std::vector<TimedForward> PortMappingService::timed_forwards() {
    std::lock_guard lock(mutex_);
    return timed_;
}

}  // namespace gw
