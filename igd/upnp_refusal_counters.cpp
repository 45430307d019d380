#include "igd/upnp_refusal_counters.hpp"

#include <algorithm>

namespace gw {
namespace {

std::size_t slot_of(UpnpError error) {
    return std::size_t(std::ranges::find(all_upnp_errors, error) - all_upnp_errors.begin());
}

}  // namespace

void UpnpRefusalCounters::count(UpnpError error) {
    auto slot = slot_of(error);
    if (slot < by_error_.size()) by_error_[slot].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t UpnpRefusalCounters::of(UpnpError error) const {
    auto slot = slot_of(error);
    return slot < by_error_.size() ? by_error_[slot].load(std::memory_order_relaxed) : 0;
}

std::vector<std::pair<std::string, std::uint64_t>> UpnpRefusalCounters::nonzero() const {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    for (std::size_t i = 0; i < all_upnp_errors.size(); ++i) {
        auto n = by_error_[i].load(std::memory_order_relaxed);
        if (n == 0) continue;
        out.emplace_back(std::to_string(int(all_upnp_errors[i])) + "_" + std::string(upnp_error_name(all_upnp_errors[i])),
                         n);
    }
    if (auto n = outside_lan()) out.emplace_back("outside_lan", n);
    return out;
}

}  // namespace gw
