// One rate-limited log line per refusal, for every front end (issue 15: three copies became one).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "base/log.hpp"
#include "igd/refusal_log.hpp"

using namespace gw;

namespace {

// What the log wrote while `fn` ran.
template <class Fn>
std::string logged_by(Fn fn) {
    int pipe_fds[2];
    REQUIRE(pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) == 0);
    log::set_output_fd(pipe_fds[1]);
    fn();
    log::set_output_fd(STDERR_FILENO);
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = read(pipe_fds[0], buffer, sizeof buffer)) > 0;) text.append(buffer, std::size_t(n));
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return text;
}

std::size_t lines_in(const std::string& text) {
    std::size_t lines = 0;
    for (char c : text) lines += c == '\n';
    return lines;
}

}  // namespace

TEST_CASE("refusals over the log's limit are counted, and the next line logged says how many were left out") {
    RefusalLog refusals(RateLimit{.per_second = 1, .burst = 3});
    const Instant t0{1'000'000};
    std::string burst = logged_by([&] {
        for (int i = 0; i < 10; ++i) refusals.write("refused " + std::to_string(i), t0);
    });
    CHECK(lines_in(burst) == 3);
    CHECK(burst.find("refused 2") != std::string::npos);
    CHECK(burst.find("refused 3") == std::string::npos);
    std::string after = logged_by([&] { refusals.write("refused again", t0 + std::chrono::seconds(1)); });
    CHECK(after.find("refused again (7 refusals not logged before it; see gatewayctl status)") != std::string::npos);
    std::string next = logged_by([&] { refusals.write("refused once more", t0 + std::chrono::seconds(2)); });
    CHECK(next.find("not logged") == std::string::npos);
}
