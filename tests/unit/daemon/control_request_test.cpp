// The control socket's wire format: request lines (a JSON array of words, or plain
// words) and the JSON the daemon answers with, which must survive any text in it.
#include <catch2/catch.hpp>

#include "daemon/control_json.hpp"
#include "daemon/control_socket.hpp"

namespace gw {

TEST_CASE("a request is a JSON array of words, as gatewayctl sends it") {
    auto request = parse_control_request(R"(["flows", "--host", "192.168.50.10"])" "\n");
    CHECK(request.error.empty());
    CHECK(request.words == std::vector<std::string>{"flows", "--host", "192.168.50.10"});
}

TEST_CASE("a request may be plain words, for socat and nc") {
    auto request = parse_control_request("forwards  disable web\r\n");
    CHECK(request.error.empty());
    CHECK(request.words == std::vector<std::string>{"forwards", "disable", "web"});
}

TEST_CASE("a malformed, empty or control-character request is refused with a reason") {
    CHECK(parse_control_request(R"(["flows", 3])").error == "the request is not a JSON array of strings");
    CHECK(parse_control_request(R"(["flows")").error == "the request is not a JSON array of strings");
    CHECK(parse_control_request("   \n").error == "empty request");
    CHECK(parse_control_request(R"(["a\u0007b"])").error == "control characters in the request");
    CHECK(parse_control_request(R"(["a"])").words.size() == 1);
}

TEST_CASE("strings are escaped so that no description can break the answer or its line") {
    std::string evil = "quote\" back\\ newline\n bell\x07 é";
    std::string json = JsonObject().add("description", evil).str();
    CHECK(json == R"({"description":"quote\" back\\ newline\n bell\u0007 é"})");
    CHECK(json.find('\n') == std::string::npos);
    auto parsed = parse_json(json);
    REQUIRE(parsed);
    REQUIRE(parsed->member("description"));
    CHECK(*parsed->member("description")->string() == evil);
}

TEST_CASE("the parser reads what the daemon writes: numbers, booleans, null, nesting") {
    std::string json = JsonObject()
                           .add("ok", true)
                           .add("flows", std::uint64_t(18446744073709551615ULL))
                           .add("delta", std::int64_t(-3))
                           .add_null("lease_seconds")
                           .add_raw("rows", json_array({JsonObject().add("a", "b").str()}))
                           .str();
    auto parsed = parse_json(json);
    REQUIRE(parsed);
    CHECK(std::get<bool>(parsed->member("ok")->value));
    CHECK(std::get<double>(parsed->member("delta")->value) == -3);
    CHECK(std::holds_alternative<std::nullptr_t>(parsed->member("lease_seconds")->value));
    CHECK(*parsed->member("rows")->array()->front().member("a")->string() == "b");
    CHECK(to_json(*parse_json(R"({"x":[1,2.5,"\ud83d\ude00"]})")) == "{\"x\":[1,2.5,\"\xf0\x9f\x98\x80\"]}");
}

TEST_CASE("the parser refuses trailing garbage, bad escapes and deep nesting") {
    CHECK_FALSE(parse_json(R"({"a":1} x)"));
    CHECK_FALSE(parse_json(R"(["\x"])"));
    CHECK_FALSE(parse_json("\"raw\ncontrol\""));
    CHECK_FALSE(parse_json(std::string(40, '[') + std::string(40, ']')));
    CHECK(parse_json(std::string(30, '[') + std::string(30, ']')));
}

}  // namespace gw
