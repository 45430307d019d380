// The one exception kind of the daemon: a start-up step that cannot succeed
// (interface missing, queue taken, iptables refusing). Never thrown once packets flow.
#pragma once

#include <stdexcept>

namespace gw {

struct StartupError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace gw
