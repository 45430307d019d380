// The checker facing files that are not what the operator meant to give it: too big, not
// a file, full of errors, indented with tabs, binary. Each is refused with one clear
// message, at once, and nothing from the file reaches the terminal raw.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/gateway_config.hpp"
#include "config_fixtures.hpp"

namespace gw {
namespace {

using namespace config_fixtures;

// A directory of its own under /tmp, removed with what the test put in it.
class ScratchDirectory {
public:
    ScratchDirectory() {
        char name[] = "/tmp/gw-config-checker-XXXXXX";
        path_ = ::mkdtemp(name);
    }
    ~ScratchDirectory() {
        for (const std::string& file : files_) ::unlink(file.c_str());
        ::rmdir(path_.c_str());
    }
    std::string file(const std::string& name) {
        files_.push_back(path_ + "/" + name);
        return files_.back();
    }

private:
    std::string path_;
    std::vector<std::string> files_;
};

void write_file(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

// Loads `path` in a child process that SIGALRM ends after 5 s, so that a checker that
// waits for a FIFO's writer or reads /dev/zero forever fails the test instead of hanging it.
// True when the load came back, in time, with the one error `expected`.
bool refused_in_time(const std::string& path, const std::string& expected) {
    pid_t child = ::fork();
    if (child == 0) {
        ::alarm(5);
        ConfigLoadResult result = load_config_file(path);
        bool as_expected = !result.config && result.errors.size() == 1 && result.errors[0].to_string() == expected;
        if (!as_expected) {
            for (const ConfigError& error : result.errors) std::fprintf(stderr, "%s\n", error.to_string().c_str());
        }
        ::_exit(as_expected ? 0 : 1);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool has_raw_control_byte(const std::string& text) {
    for (unsigned char c : text) {
        if (c < 0x20 || c == 0x7f) return true;
    }
    return false;
}

}  // namespace

TEST_CASE("a file over 1 MiB is refused before it is read, naming its size and the limit") {
    ScratchDirectory scratch;
    std::string big = scratch.file("big.yaml");
    // 50 MiB of nothing, sparse: reading it whole would take 50 MiB, parsing it far more.
    int fd = ::open(big.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, 50 << 20) == 0);
    ::close(fd);
    ConfigLoadResult result = load_config_file(big);
    CHECK_FALSE(result.config);
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].to_string() ==
          big + ": the file is 52428800 bytes; a configuration file has at most 1048576 bytes (1 MiB)");
}

TEST_CASE("a file of exactly 1 MiB is read and checked") {
    ScratchDirectory scratch;
    std::string path = scratch.file("padded.yaml");
    std::string text = interfaces;
    while (text.size() + 80 < max_config_file_bytes) text += "# " + std::string(77, 'x') + "\n";
    text += "#" + std::string(max_config_file_bytes - text.size() - 2, 'y') + "\n";
    REQUIRE(text.size() == max_config_file_bytes);
    write_file(path, text);
    ConfigLoadResult result = load_config_file(path);
    CHECK(result.errors.empty());
    CHECK(result.config);
    write_file(path, text + "\n");
    CHECK(load_config_file(path).errors.at(0).message ==
          "the file is 1048577 bytes; a configuration file has at most 1048576 bytes (1 MiB)");
}

TEST_CASE("a FIFO is refused at once instead of waiting for a writer") {
    ScratchDirectory scratch;
    std::string fifo = scratch.file("gateway.yaml");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK(refused_in_time(fifo, fifo + ": not a regular file but a FIFO; give the path of the configuration file itself"));
}

TEST_CASE("a device is refused instead of read until memory runs out") {
    CHECK(refused_in_time("/dev/zero",
                          "/dev/zero: not a regular file but a character device; give the path of the configuration "
                          "file itself"));
}

TEST_CASE("of 200 000 errors the first 50 are kept in file order and the rest are counted exactly") {
    std::string items;
    for (int i = 0; i < 200000; ++i) items += i == 0 ? "1" : ",1";
    ConfigLoadResult result = load_config_text(interfaces + "firewall: {rules: [" + items + "]}\n", "test.yaml");
    CHECK_FALSE(result.config);
    REQUIRE(result.errors.size() == max_reported_config_errors);
    CHECK(result.more_errors == 199950);
    CHECK(result.error_count() == 200000);
    CHECK(result.errors[0].to_string() ==
          "test.yaml:5:20: firewall.rules[0]: expected a map of settings, got a single value");
    CHECK(result.errors[49].to_string() ==
          "test.yaml:5:118: firewall.rules[49]: expected a map of settings, got a single value");
    std::vector<std::string> lines = config_report_lines(result);
    REQUIRE(lines.size() == 51);
    CHECK(lines.back() == "\u2026 and 199950 more errors");
}

TEST_CASE("errors found after the walk still come first when they come first in the file") {
    std::string unknown;
    for (int i = 0; i < 60; ++i) unknown += "unknown" + std::to_string(i) + ": 1\n";
    ConfigLoadResult result = load_config_text("wan:\n  interface: eth0\n" + unknown, "test.yaml");
    REQUIRE(result.errors.size() == 50);
    CHECK(result.errors[0].to_string() == "test.yaml:1:1: missing required key 'lan.interface'");
    CHECK(result.errors[1].to_string() == "test.yaml:3:1: unknown key 'unknown0'");
    CHECK(result.errors[49].to_string() == "test.yaml:51:1: unknown key 'unknown48'");
    CHECK(result.more_errors == 11);
    CHECK(config_report_lines(result).back() == "\u2026 and 11 more errors");
}

TEST_CASE("one error past the first 50 is counted as one more error") {
    std::string unknown;
    for (int i = 0; i < 51; ++i) unknown += "unknown" + std::to_string(i) + ": 1\n";
    ConfigLoadResult result = load_config_text(interfaces + unknown, "test.yaml");
    CHECK(result.more_errors == 1);
    CHECK(config_report_lines(result).back() == "\u2026 and 1 more error");
}

TEST_CASE("a tab in the indentation is named as such at its line instead of yaml-cpp's illegal map value") {
    CHECK(errors_of("lan:\n\tinterface: eth1\nwan:\n  interface: eth0\n") ==
          one("test.yaml:2:1: a tab in the indentation: YAML indents with spaces"));
    CHECK(errors_of("lan:\n  interface: eth1\n \tnetworks: []\nwan:\n  interface: eth0\n") ==
          one("test.yaml:3:2: a tab in the indentation: YAML indents with spaces"));
    CHECK(errors_of(with_rules("    - name: a\n\t  direction: inbound\n")) ==
          one("test.yaml:8:1: a tab in the indentation: YAML indents with spaces"));
}

TEST_CASE("another syntax error on a line indented with a tab keeps yaml-cpp's words") {
    CHECK(errors_of(interfaces + "nat: [1,\n\t2, }\n") == one("test.yaml:6:5: invalid YAML: illegal flow end"));
}

TEST_CASE("a tab between a key and its value is not indentation and loads") {
    CHECK(loaded("lan:\n  interface:\teth1\nwan:\n  interface: eth0\n").lan_interface == "eth1");
}

TEST_CASE("a binary file writes no raw control byte to the terminal") {
    std::string binary;
    for (int i = 0; i < 4096; ++i) binary += char((i * 7919) % 256);
    for (const std::string& text : {binary, std::string("\x00\x01\x1b[2J\xff\xfe", 6), interfaces + binary}) {
        ConfigLoadResult result = load_config_text(text, "test.yaml");
        CHECK_FALSE(result.config);
        for (const std::string& line : config_report_lines(result)) {
            INFO(line);
            CHECK_FALSE(has_raw_control_byte(line));
        }
    }
}

TEST_CASE("a key holding an escape sequence is quoted with the escape written out") {
    CHECK(errors_of(interfaces + "ev\x1b[2Jil: 1\n") == one("test.yaml:5:1: unknown key 'ev\\x1b[2Jil'"));
    CHECK(errors_of(interfaces + "nat:\n  \"bad\\0key\": 1\n") == one("test.yaml:6:3: unknown key 'nat.bad\\x00key'"));
}

TEST_CASE("a value holding an escape sequence is quoted with the escape written out") {
    CHECK(errors_of(interfaces + "firewall:\n  dmz: \"\\e[31m\\0\"\n") ==
          one("test.yaml:6:8: firewall.dmz: expected an IPv4 address such as 192.168.50.20, got '\\x1b[31m\\x00'"));
}

TEST_CASE("bytes that are not UTF-8 are escaped and UTF-8 text is kept") {
    CHECK(errors_of(interfaces + "caf\xc3\xa9\xff: 1\n") == one("test.yaml:5:1: unknown key 'caf\xc3\xa9\\xff'"));
    CHECK(errors_of(interfaces + "a\xe2\x80\xae" "b: 1\n") == one("test.yaml:5:1: unknown key 'a\\u202eb'"));
    CHECK(errors_of(interfaces + "a\xc2\x9b" "b: 1\n") == one("test.yaml:5:1: unknown key 'a\\xc2\\x9bb'"));
}

TEST_CASE("a value too long to quote whole is cut, with its length") {
    std::string name(300, 'x');
    auto errors = errors_of(interfaces + "firewall:\n  dmz: " + name + "\n");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0] == "test.yaml:6:8: firewall.dmz: expected an IPv4 address such as 192.168.50.20, got '" +
                           std::string(100, 'x') + "\u2026' (300 bytes)");
}

}  // namespace gw
