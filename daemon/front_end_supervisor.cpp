#include "front_end_supervisor.hpp"

#include <net/if.h>

#include <algorithm>
#include <exception>
#include <fstream>
#include <sstream>

#include "control_json.hpp"
#include "host_network.hpp"
#include "base/log.hpp"

namespace gw {
namespace {

constexpr Instant first_backoff = std::chrono::seconds(1), longest_backoff = std::chrono::seconds(30);
// IFA_F_TENTATIVE (linux/if_addr.h): the address is still under duplicate address detection.
// IFA_F_DADFAILED: it lost (another host has it); such an address keeps TENTATIVE for good,
// so waiting for it would keep every front end down, NAT-PMP/PCP (IPv4 only) included.
constexpr unsigned tentative_flag = 0x40, dad_failed_flag = 0x08;

// /proc/net/if_inet6: "address index prefix scope flags name", one address a line.
bool has_tentative_ipv6_address(const std::string& interface) {
    std::ifstream file("/proc/net/if_inet6");
    for (std::string line; std::getline(file, line);) {
        std::istringstream words(line);
        std::string address, index, prefix, scope, flags, name;
        if (!(words >> address >> index >> prefix >> scope >> flags >> name) || name != interface) continue;
        unsigned long bits = std::stoul(flags, nullptr, 16);
        if ((bits & tentative_flag) && !(bits & dad_failed_flag)) return true;
    }
    return false;
}

}  // namespace

LanReadiness lan_readiness(const std::string& interface) {
    LanReadiness r;
    r.address = interface_ipv4_address(interface);
    if (!interface_exists(interface)) r.why = interface + " does not exist";
    else if (!interface_is_up(interface)) r.why = interface + " is down";
    else if (!r.address) r.why = interface + " has no IPv4 address";
    else if (has_tentative_ipv6_address(interface)) r.why = interface + "'s IPv6 address is still tentative (DAD)";
    else r.ready = true;
    return r;
}

FrontEndSupervisor::FrontEndSupervisor(ReadinessProbe readiness) : readiness_(std::move(readiness)) {}

void FrontEndSupervisor::add(SupervisedFrontEnd front_end) {
    Entry entry;
    entry.front_end = std::move(front_end);
    entries_.push_back(std::move(entry));
}

bool FrontEndSupervisor::running(const std::string& name) const {
    return std::any_of(entries_.begin(), entries_.end(),
                       [&](const Entry& e) { return e.front_end.name == name && e.state == State::running; });
}

std::string FrontEndSupervisor::json() const {
    JsonObject object;
    for (const Entry& e : entries_) {
        const char* state = e.state == State::running ? "running" : e.state == State::failing ? "failing" : "waiting";
        object.add_raw(e.front_end.name, JsonObject().add("state", state).add("reason", e.reason).str());
    }
    return object.add("failed_starts", std::uint64_t(failed_starts_)).str();
}

void FrontEndSupervisor::check(Instant now) {
    if (entries_.empty()) return;
    const LanReadiness lan = readiness_();
    for (Entry& entry : entries_) {
        if (entry.state == State::running) {
            // A running front end stays through a tentative address or a lost carrier (its
            // sockets are bound); only a new LAN address moves it.
            if (!lan.address || *lan.address == entry.started_on) continue;
            log::warning(entry.front_end.name + ": the LAN address changed (" + entry.started_on.to_string() + " -> " +
                         lan.address->to_string() + "); restarting on it");
            entry.front_end.stop();
            entry.state = State::waiting;
            entry.reason.clear();
            entry.next_attempt = now;
            entry.backoff = Instant{0};
        }
        if (!lan.ready) {
            if (entry.state != State::failing) enter(entry, State::waiting, lan.why);
            continue;
        }
        if (now >= entry.next_attempt) try_start(entry, *lan.address, now);
    }
}

void FrontEndSupervisor::try_start(Entry& entry, Ipv4Address lan, Instant now) {
    try {
        entry.front_end.start(lan);
        entry.started_on = lan;
        entry.backoff = Instant{0};
        enter(entry, State::running, "on " + lan.to_string());
        return;
    } catch (const std::exception& e) {
        entry.front_end.stop();  // a half start undone before the next try
        ++failed_starts_;
        entry.backoff = entry.backoff == Instant{0} ? first_backoff : std::min(entry.backoff * 2, longest_backoff);
        entry.next_attempt = now + entry.backoff;
        enter(entry, State::failing, e.what());
    }
}

void FrontEndSupervisor::enter(Entry& entry, State state, const std::string& reason) {
    if (entry.state == state && entry.reason == reason) return;  // once per change, not per retry
    entry.state = state;
    entry.reason = reason;
    switch (state) {
        case State::waiting: log::info(entry.front_end.name + ": waiting for the LAN: " + reason); break;
        case State::running: log::info(entry.front_end.name + ": running " + reason); break;
        case State::failing:
            log::warning(entry.front_end.name + ": cannot start (" + reason + "); retrying with backoff");
            break;
    }
}

}  // namespace gw
