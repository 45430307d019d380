#include "drop_reason.hpp"

namespace gw {
namespace {

struct ReasonText {
    std::string_view name;
    std::string_view description;
};

constexpr std::array<ReasonText, drop_reason_count> reason_table{{
#define GW_DROP_REASON_TEXT(name, text) {#name, text},
    GW_DROP_REASONS(GW_DROP_REASON_TEXT)
#undef GW_DROP_REASON_TEXT
}};

}  // namespace

std::string_view drop_reason_name(DropReason reason) {
    return reason_table[std::size_t(reason)].name;
}

std::string_view drop_reason_description(DropReason reason) {
    return reason_table[std::size_t(reason)].description;
}

std::uint64_t DropCounters::total() const {
    std::uint64_t sum = 0;
    for (std::size_t i = 1; i < counts_.size(); ++i) sum += counts_[i];
    return sum;
}

}  // namespace gw
