// pupnp prints to stderr on its own ("too many jobs", thousands of lines a second under
// a flood, issue 14): raw, unleveled, and glued onto our lines, which breaks journald's
// "<N>" priority prefix. While a StderrCapture lives, fd 2 is a pipe: a thread reads it
// and turns what arrives into whole log lines of their own ("pupnp: ..." at warning),
// control characters replaced, at most lines_per_second of them, with a count of the
// lines it held back. gatewayd's own log keeps writing to the real stderr (a duplicate
// taken at start), and so do the sanitizers' reports (__sanitizer_set_report_fd of each
// loaded runtime: GCC's libasan and libubsan keep one report fd each) and a
// std::terminate message: a report written into the pipe by a process that halts right
// after it would be lost with the reader thread (a UBSan finding was, once).
//
// One per process, made by the daemon's main thread before pupnp starts; its destructor
// puts stderr back and joins the reader.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

namespace gw {

class StderrCapture {
public:
    static constexpr std::uint32_t lines_per_second = 10;
    static constexpr std::uint32_t burst = 50;
    static constexpr std::size_t max_line_bytes = 512;

    // Throws StartupError when fd 2 cannot be duplicated or the pipe made.
    explicit StderrCapture(std::string prefix = "pupnp: ");
    ~StderrCapture();
    StderrCapture(const StderrCapture&) = delete;
    StderrCapture& operator=(const StderrCapture&) = delete;

    // What a captured line becomes: cut to max_line_bytes, control characters as '?'.
    static std::string line_text(std::string_view raw);

private:
    void read_lines() noexcept;

    std::string prefix_;
    int original_fd_ = -1;  // the real stderr
    int read_fd_ = -1;
    std::thread reader_;
};

}  // namespace gw
