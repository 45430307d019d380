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

LeaseJournal::LeaseJournal(std::string path, LeaseSync sync, JournalStorage& storage)
    : path_(std::move(path)), sync_(sync), storage_(storage) {
    if (sync_ == LeaseSync::second) syncer_ = std::jthread([this](std::stop_token stop) { sync_in_background(stop); });
}

LeaseJournal::~LeaseJournal() {
    if (syncer_.joinable()) {
        syncer_.request_stop();
        syncer_.join();
    }
    close_file();
}

void LeaseJournal::close_file() {
    std::lock_guard lock(fd_mutex_);
    if (fd_ >= 0) {
        if (unsynced_) (void)storage_.flush(fd_);
        close(fd_);
    }
    fd_ = -1;
    unsynced_ = false;
}

// Waits for an unsynced append, lets a second's worth gather, then flushes a duplicate of
// the descriptor outside the lock, so that appends never wait for the disk.
void LeaseJournal::sync_in_background(std::stop_token stop) {
    std::unique_lock lock(fd_mutex_);
    while (!stop.stop_requested()) {
        if (!appended_.wait(lock, stop, [this] { return unsynced_; })) break;
        appended_.wait_for(lock, stop, std::chrono::seconds(1), [] { return false; });
        if (fd_ < 0 || !unsynced_) continue;
        int fd = dup(fd_);
        unsynced_ = false;
        lock.unlock();
        if (fd >= 0) {
            (void)storage_.flush(fd);
            close(fd);
        }
        lock.lock();
    }
}

std::optional<std::string> LeaseJournal::compact(std::string_view snapshot, std::size_t snapshot_lines) {
    close_file();
    if (auto written = write_lease_file_atomically(path_, snapshot); !written) return written.error().message;
    int fd = open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) return system_error("cannot open for appending", path_, errno);
    std::lock_guard lock(fd_mutex_);
    fd_ = fd;
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
    lines_ += std::size_t(std::count(lines.begin(), lines.end(), '\n'));
    if (sync_ == LeaseSync::second) {
        std::lock_guard lock(fd_mutex_);
        unsynced_ = true;
        appended_.notify_one();
        return std::nullopt;
    }
    // fdatasync, not fsync: the data and the new size are what a replay needs.
    if (auto flushed = storage_.flush(fd_); !flushed) {
        auto error = "cannot fdatasync " + path_ + ": " + flushed.error().message;
        close_file();
        return error;
    }
    return std::nullopt;
}

bool LeaseJournal::wants_compaction(std::size_t live_entries) const {
    return lines_ > 2 * (live_entries + 1) + min_lines_before_compaction;
}

}  // namespace gw
