// pupnp's stderr becomes whole, leveled, rate-limited log lines (issue 14): the capture is run
// against the real fd 2, which the test points at a file first.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/log.hpp"
#include "daemon/stderr_capture.hpp"

namespace gw::test {
namespace {

// Runs `write_raw` with fd 2 captured, the real stderr being a temporary file; returns the file.
template <class WriteRaw>
std::vector<std::string> logged_lines(WriteRaw write_raw) {
    char path[] = "/tmp/gw-stderr-capture-XXXXXX";
    int file = mkstemp(path);
    REQUIRE(file >= 0);
    std::fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(file, STDERR_FILENO);
    {
        StderrCapture capture("pupnp: ");
        log::info("own line");
        write_raw();
    }
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(file);
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    unlink(path);
    return lines;
}

void raw(std::string_view text) { REQUIRE(::write(STDERR_FILENO, text.data(), text.size()) == ssize_t(text.size())); }

}  // namespace

TEST_CASE("pupnp's output on stderr becomes whole warning lines beside gatewayd's own, never glued to them") {
    auto lines = logged_lines([] {
        raw("too many");
        raw(" jobs\nsecond\x1b[31m line\n");
        raw("no newline at the end");
    });
    REQUIRE(lines.size() == 4);
    CHECK(lines[0] == "gatewayd: own line");
    CHECK(lines[1] == "gatewayd: warning: pupnp: too many jobs");
    CHECK(lines[2] == "gatewayd: warning: pupnp: second?[31m line");
    CHECK(lines[3] == "gatewayd: warning: pupnp: no newline at the end");
}

TEST_CASE("a flood on stderr is cut to the rate limit and the lines held back are counted") {
    auto lines = logged_lines([] {
        for (int i = 0; i < 1000; ++i) raw("too many jobs\n");
    });
    std::size_t pupnp_lines = 0;
    bool counted = false;
    for (const auto& line : lines) {
        if (line == "gatewayd: warning: pupnp: too many jobs") ++pupnp_lines;
        if (line.find("more line(s) held back") != std::string::npos) counted = true;
    }
    CHECK(pupnp_lines >= StderrCapture::burst);
    CHECK(pupnp_lines < 200);
    CHECK(counted);
}

TEST_CASE("a line that never ends is cut at max_line_bytes") {
    auto lines = logged_lines([] { raw(std::string(5000, 'x')); });
    REQUIRE(lines.size() >= 2);
    CHECK(lines[1].size() == std::string("gatewayd: warning: pupnp: ").size() + StderrCapture::max_line_bytes);
}

}  // namespace gw::test
