// How a journal's appended lines reach the disk: the seam between LeaseJournal's logic
// and the kernel's fdatasync(2). The daemon uses system_journal_storage(); a test injects
// one whose flush is deliberately slow, to show that a slow disk stalls only the front
// end that waits for it, never the packet workers (issue 15, docs/architecture.md,
// Threads and locks).
#pragma once

#include "base/expected.hpp"

namespace gw {

class JournalStorage {
public:
    virtual ~JournalStorage() = default;
    // Flushes the data appended to `fd` (fdatasync: the data and the new size are what a
    // replay needs). The error names the system's reason; the journal adds its path.
    virtual Expected<void, Error> flush(int fd);
};

// fdatasync(2) itself; one object for the whole process, stateless.
JournalStorage& system_journal_storage();

}  // namespace gw
