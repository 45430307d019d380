#include "igd/lease_journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "igd/lease_file.hpp"

namespace gw {
namespace {

std::string system_error(std::string_view what, const std::string& path, int error_number) {
    return std::string(what) + " " + path + ": " + std::strerror(error_number);
}

}  // namespace

LeaseJournal::~LeaseJournal() { close_file(); }

void LeaseJournal::close_file() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
}

std::optional<std::string> LeaseJournal::compact(std::string_view snapshot, std::size_t snapshot_lines) {
    close_file();
    if (auto error = write_lease_file_atomically(path_, snapshot)) return error;
    fd_ = open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd_ < 0) return system_error("cannot open for appending", path_, errno);
    lines_ = snapshot_lines;
    return std::nullopt;
}

std::optional<std::string> LeaseJournal::append(std::string_view lines) {
    if (fd_ < 0) return "cannot append to " + path_ + ": not open (an earlier write failed)";
    for (std::size_t written = 0; written < lines.size();) {
        auto n = write(fd_, lines.data() + written, lines.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            auto error = system_error("cannot append to", path_, errno);
            close_file();  // the file may end in half a line now: only a compaction may follow
            return error;
        }
        written += std::size_t(n);
    }
    // fdatasync, not fsync: the data and the new size are what a replay needs.
    if (fdatasync(fd_) != 0) {
        auto error = system_error("cannot fdatasync", path_, errno);
        close_file();
        return error;
    }
    lines_ += std::size_t(std::count(lines.begin(), lines.end(), '\n'));
    return std::nullopt;
}

bool LeaseJournal::wants_compaction(std::size_t live_entries) const {
    return lines_ > 2 * (live_entries + 1) + min_lines_before_compaction;
}

}  // namespace gw
