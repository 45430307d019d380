#include "nfqueue_kernel_stats.hpp"

#include <fstream>
#include <sstream>
#include <string>

namespace gw {

std::optional<NfQueueKernelStats> parse_nfqueue_kernel_stats(std::string_view proc_text, std::uint16_t queue_number) {
    // seq_printf in nfnetlink_queue.c: queue_num peer_portid queue_total copy_mode
    // copy_range queue_dropped queue_user_dropped id_sequence 1
    std::istringstream lines{std::string(proc_text)};
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        std::uint64_t number, portid, total, mode, range, dropped, user_dropped;
        if (!(fields >> number >> portid >> total >> mode >> range >> dropped >> user_dropped)) continue;
        if (number != queue_number) continue;
        return NfQueueKernelStats{total, dropped, user_dropped};
    }
    return std::nullopt;
}

std::optional<NfQueueKernelStats> read_nfqueue_kernel_stats(std::uint16_t queue_number) {
    std::ifstream file("/proc/net/netfilter/nfnetlink_queue");
    if (!file) return std::nullopt;
    std::ostringstream text;
    text << file.rdbuf();
    return parse_nfqueue_kernel_stats(text.str(), queue_number);
}

}  // namespace gw
