// Runs a helper program (iptables-restore, iptables-save) without a shell, feeding
// it stdin and collecting its combined output.
#pragma once

#include <string>
#include <vector>

namespace gw {

struct CommandResult {
    int exit_code = -1;  // -1: could not be started or was killed
    std::string output;  // stdout and stderr together
};

CommandResult run_command(const std::vector<std::string>& argv, const std::string& input = {});

}  // namespace gw
