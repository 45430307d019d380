#include "igd/pupnp_ssdp_silencer.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/startup_error.hpp"
#include "igd/ssdp_message.hpp"

#ifndef SO_LOCK_FILTER
#define SO_LOCK_FILTER 44
#endif

namespace gw {
namespace {

bool is_udp_on_ssdp_port(int fd) {
    int type = 0;
    socklen_t size = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) != 0 || type != SOCK_DGRAM) return false;
    sockaddr_storage local{};
    size = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &size) != 0) return false;
    if (local.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port) == ssdp_port;
    if (local.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port) == ssdp_port;
    return false;
}

}  // namespace

std::size_t silence_foreign_ssdp_sockets(std::span<const int> keep) {
    DIR* directory = opendir("/proc/self/fd");
    if (!directory) throw StartupError(std::string("SSDP: cannot list /proc/self/fd: ") + std::strerror(errno));
    // "Accept 0 bytes": the whole datagram is dropped before it reaches the queue.
    static sock_filter drop_all[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
    sock_fprog program{1, drop_all};
    std::size_t silenced = 0;
    std::string failure;
    while (dirent* entry = readdir(directory)) {
        char* end = nullptr;
        long fd = std::strtol(entry->d_name, &end, 10);
        if (*end != '\0' || end == entry->d_name || fd == dirfd(directory)) continue;
        if (std::ranges::find(keep, int(fd)) != keep.end() || !is_udp_on_ssdp_port(int(fd))) continue;
        int one = 1;
        if (setsockopt(int(fd), SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) != 0 ||
            setsockopt(int(fd), SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof one) != 0) {
            failure = "socket " + std::to_string(fd) + ": " + std::strerror(errno);
            continue;
        }
        ++silenced;
    }
    closedir(directory);
    if (!failure.empty()) throw StartupError("SSDP: cannot silence pupnp's SSDP " + failure);
    return silenced;
}

}  // namespace gw
