#include "igd/refusal_log.hpp"

#include <string>
#include <utility>

#include "base/log.hpp"

namespace gw {

void RefusalLog::write(std::string_view line, Instant now) {
    std::uint64_t skipped = 0;
    {
        std::lock_guard lock(mutex_);
        if (!limit_.admit(now)) {
            ++not_logged_;
            return;
        }
        skipped = std::exchange(not_logged_, 0);
    }
    std::string text(line);
    if (skipped != 0) text += " (" + std::to_string(skipped) + " refusals not logged before it; see gatewayctl status)";
    if (level_ == Level::warning) return log::warning(text);
    log::info(text);
}

}  // namespace gw
