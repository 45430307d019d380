#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "base/line_journal.hpp"

namespace {

constexpr gw::LineJournalFormat format{"gatewayd-test 1", "test file"};

// Reads `text`, keeping every line handed over; lines starting "bad" are refused.
std::vector<std::string> lines_of(std::string_view text, std::vector<std::string>& errors) {
    std::vector<std::string> lines;
    auto read = gw::read_line_journal(text, format, "t", [&](std::string_view line) -> gw::Expected<void> {
        if (line.starts_with("bad")) return gw::unexpected(gw::Error{"bad line"});
        lines.emplace_back(line);
        return {};
    });
    errors = read.errors;
    return lines;
}

}  // namespace

TEST_CASE("a line journal hands over every line after its header, without comments, blank lines or CRs") {
    std::vector<std::string> errors;
    auto lines = lines_of("# written by hand\n\ngatewayd-test 1\r\na 1\r\n  # indented comment\n   \nb 2\n", errors);
    CHECK(errors.empty());
    CHECK(lines == std::vector<std::string>{"a 1", "b 2"});
}

TEST_CASE("a bad line is reported with its line number and a torn last line says it was torn") {
    std::vector<std::string> errors;
    auto lines = lines_of("gatewayd-test 1\nbad one\na 1\nbad tail", errors);
    CHECK(lines == std::vector<std::string>{"a 1"});
    CHECK(errors == std::vector<std::string>{"t:2: bad line", "t:4: torn line at end of file (no newline): bad line"});
}

TEST_CASE("a line journal of another version or format is refused whole, with one error") {
    std::vector<std::string> errors;
    CHECK(lines_of("gatewayd-test 2\na 1\n", errors).empty());
    CHECK(errors == std::vector<std::string>{"t:1: unsupported test file version '2'"});
    CHECK(lines_of("something else\na 1\n", errors).empty());
    CHECK(errors == std::vector<std::string>{"t:1: not a test file: expected 'gatewayd-test 1' first"});
}

TEST_CASE("whole_number reads only an unsigned decimal number that is all of the text") {
    CHECK(gw::whole_number<unsigned>("42") == 42u);
    for (std::string_view text : {"", "+1", "-1", " 1", "1x", "0x1"}) CHECK_FALSE(gw::whole_number<unsigned>(text));
}
