#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/log.hpp"

namespace {

// JOURNAL_STREAM for the duration of a test, as systemd would set it.
struct JournalStreamEnv {
    explicit JournalStreamEnv(const std::string& value) { setenv("JOURNAL_STREAM", value.c_str(), 1); }
    ~JournalStreamEnv() { unsetenv("JOURNAL_STREAM"); }
};

std::string device_and_inode(int fd) {
    struct stat status {};
    REQUIRE(fstat(fd, &status) == 0);
    return std::to_string(status.st_dev) + ":" + std::to_string(status.st_ino);
}

}  // namespace

TEST_CASE("a journal entry carries the level as PRIORITY, the line without the gatewayd prefix, and the fields") {
    std::vector<gw::log::Field> fields{{"RULE", "no-smtp-out"}, {"REASON", "denied_by_rule"}};
    auto entry = gw::log::journal_entry(gw::log::Level::warning, "drop rule=no-smtp-out", fields);
    CHECK(entry == std::vector<std::string>{"PRIORITY=4", "SYSLOG_IDENTIFIER=gatewayd", "MESSAGE=drop rule=no-smtp-out",
                                            "RULE=no-smtp-out", "REASON=denied_by_rule"});
}

TEST_CASE("a field journald would refuse is left out, not sent to sink the whole entry") {
    std::vector<gw::log::Field> fields{{"rule", "lower case"}, {"_PID", "forged trusted field"},
                                       {"1ST", "starts with a digit"}, {"SRC", "192.168.50.10:40000"}};
    auto entry = gw::log::journal_entry(gw::log::Level::info, "line", fields);
    CHECK(entry == std::vector<std::string>{"PRIORITY=6", "SYSLOG_IDENTIFIER=gatewayd", "MESSAGE=line",
                                            "SRC=192.168.50.10:40000"});
}

TEST_CASE("stderr counts as the journal's stream only when JOURNAL_STREAM names that very stream") {
    std::FILE* file = std::tmpfile();
    REQUIRE(file);
    int fd = fileno(file);
    {
        JournalStreamEnv env(device_and_inode(fd));
        CHECK(gw::log::is_journal_stream(fd));
    }
    {
        // A shell that redirected the service's stderr to a file keeps the variable.
        JournalStreamEnv env("1:2");
        CHECK_FALSE(gw::log::is_journal_stream(fd));
    }
    {
        JournalStreamEnv env("not a stream");
        CHECK_FALSE(gw::log::is_journal_stream(fd));
    }
    CHECK_FALSE(gw::log::is_journal_stream(fd));  // no JOURNAL_STREAM at all
    std::fclose(file);
}
