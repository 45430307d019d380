// The lease file kept as an append-only journal, so that a change costs one short line
// and one fdatasync whatever the number of mappings. Rewriting and fsyncing the whole
// file on every change made AddPortMapping fall from 1408/s at 50 mappings to 355/s at
// 1000 (bench/upnp_control_plane.sh): each grant wrote ~150 kB.
//
//  - append(): one or more lines (serialize_lease_line / serialize_lease_removal),
//    written with O_APPEND and fdatasync'ed before it returns, so nothing the IGD
//    acknowledged is lost on kill -9. A crash mid-write leaves a torn last line, which
//    parse_leases reports and skips.
//  - compact(): the live mappings written whole (write_lease_file_atomically: temporary
//    file, fsync, rename, fsync of the directory), after which appends go to the new
//    file. The IGD compacts at start (which also drops a torn tail before anything is
//    appended after it), at a clean stop, and when wants_compaction() says the journal
//    has grown past twice the live entries: each line is then rewritten O(1) times.
//
// Durability (upnp.lease_sync): `change` fdatasyncs every append before it returns;
// `second` leaves the line in the page cache, where a killed or crashed daemon cannot lose
// it, and a background thread fdatasyncs within a second, so only a power cut or kernel
// crash can lose the last second of changes (clients renew their mappings anyway). A
// grant then costs a write(), not a disk flush: on this kind of disk a flush is 1-5 ms.
//
// Any failed append closes the journal: the caller compacts, so a half-written line is
// never continued by the next one. Not thread safe: the IGD calls it under its mutex (the
// background sync shares only the file descriptor, under a lock of its own).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "igd/igd_config.hpp"
#include "igd/journal_storage.hpp"

namespace gw {

class LeaseJournal {
public:
    // Small tables are compacted only after this many extra lines, so that a table of
    // three mappings is not rewritten on every other change.
    static constexpr std::size_t min_lines_before_compaction = 64;

    // `storage`: how appends reach the disk (journal_storage.hpp); it outlives the journal.
    explicit LeaseJournal(std::string path, LeaseSync sync = LeaseSync::change,
                          JournalStorage& storage = system_journal_storage());
    ~LeaseJournal();
    LeaseJournal(const LeaseJournal&) = delete;
    LeaseJournal& operator=(const LeaseJournal&) = delete;

    // Replaces the file with `snapshot` (serialize_leases: header and one line per live
    // mapping) and appends after it from now on. nullopt on success, else what failed;
    // on failure the journal stays closed until the next successful compact.
    std::optional<std::string> compact(std::string_view snapshot, std::size_t snapshot_lines);
    // Appends `lines` (each ending in '\n') and fdatasyncs now or within a second (see
    // above). Fails, without writing, when the journal is not open (compact first).
    std::optional<std::string> append(std::string_view lines);
    // More than twice `live_entries` lines (plus the minimum): time to compact.
    bool wants_compaction(std::size_t live_entries) const;
    bool is_open() const { return fd_ >= 0; }
    std::size_t lines() const { return lines_; }
    const std::string& path() const { return path_; }

private:
    void close_file();
    void sync_in_background(std::stop_token stop);

    std::string path_;
    LeaseSync sync_;
    JournalStorage& storage_;
    int fd_ = -1;
    std::size_t lines_ = 0;  // in the file, header included
    // LeaseSync::second: appended but not flushed yet; guards fd_ against the sync thread.
    std::mutex fd_mutex_;
    std::condition_variable_any appended_;
    bool unsynced_ = false;
    std::jthread syncer_;  // last: stops and joins first
};

}  // namespace gw
