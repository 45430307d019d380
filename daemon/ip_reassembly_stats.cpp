#include "ip_reassembly_stats.hpp"

#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "control_json.hpp"

namespace gw {
namespace {

std::string file_text(const char* path) {
    std::ifstream file(path);
    if (!file) return {};
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

std::uint64_t file_number(const char* path) {
    std::istringstream text(file_text(path));
    std::uint64_t value = 0;
    return text >> value ? value : 0;
}

}  // namespace

std::optional<IpReassemblyStats> parse_ip_reassembly_counters(std::string_view snmp_text) {
    // snmp_seq_show_ipstats in net/ipv4/proc.c: "Ip: Forwarding DefaultTTL ..." then "Ip: 1 64 ...".
    std::vector<std::vector<std::string>> ip_lines;
    std::istringstream lines{std::string(snmp_text)};
    for (std::string line; std::getline(lines, line) && ip_lines.size() < 2;) {
        if (line.rfind("Ip: ", 0) != 0) continue;
        std::istringstream words(line.substr(4));
        std::vector<std::string>& fields = ip_lines.emplace_back();
        for (std::string word; words >> word;) fields.push_back(word);
    }
    if (ip_lines.size() != 2 || ip_lines[0].size() != ip_lines[1].size()) return std::nullopt;
    std::map<std::string, std::uint64_t> counters;
    for (std::size_t i = 0; i < ip_lines[0].size(); ++i) {
        std::istringstream value(ip_lines[1][i]);
        std::uint64_t n = 0;
        if (!(value >> n)) return std::nullopt;
        counters[ip_lines[0][i]] = n;
    }
    IpReassemblyStats stats;
    std::pair<const char*, std::uint64_t*> wanted[] = {{"ReasmReqds", &stats.fragments},
                                                       {"ReasmOKs", &stats.reassembled},
                                                       {"ReasmFails", &stats.failed},
                                                       {"ReasmTimeout", &stats.timed_out}};
    for (auto [name, field] : wanted) {
        auto found = counters.find(name);
        if (found == counters.end()) return std::nullopt;
        *field = found->second;
    }
    return stats;
}

std::optional<std::uint64_t> parse_fragment_memory(std::string_view sockstat_text) {
    std::istringstream lines{std::string(sockstat_text)};
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("FRAG: ", 0) != 0) continue;
        std::istringstream words(line.substr(6));
        std::string inuse, memory;
        std::uint64_t queues = 0, bytes = 0;
        if (words >> inuse >> queues >> memory >> bytes && inuse == "inuse" && memory == "memory") return bytes;
    }
    return std::nullopt;
}

IpReassemblyStats read_ip_reassembly_stats() {
    IpReassemblyStats stats = parse_ip_reassembly_counters(file_text("/proc/net/snmp")).value_or(IpReassemblyStats{});
    stats.memory_bytes = parse_fragment_memory(file_text("/proc/net/sockstat")).value_or(0);
    stats.memory_limit_bytes = file_number("/proc/sys/net/ipv4/ipfrag_high_thresh");
    stats.timeout_seconds = file_number("/proc/sys/net/ipv4/ipfrag_time");
    return stats;
}

std::string ip_reassembly_json(const IpReassemblyStats& s) {
    return JsonObject()
        .add("fragments", s.fragments)
        .add("reassembled", s.reassembled)
        .add("failed", s.failed)
        .add("timed_out", s.timed_out)
        .add("memory_bytes", s.memory_bytes)
        .add("memory_limit_bytes", s.memory_limit_bytes)
        .add("timeout_seconds", s.timeout_seconds)
        .str();
}

}  // namespace gw
