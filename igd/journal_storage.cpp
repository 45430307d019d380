#include "igd/journal_storage.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gw {

Expected<void, Error> JournalStorage::flush(int fd) {
    if (fdatasync(fd) != 0) return unexpected(Error{std::strerror(errno)});
    return {};
}

JournalStorage& system_journal_storage() {
    static JournalStorage storage;
    return storage;
}

}  // namespace gw
