#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "base/expected.hpp"

namespace {

gw::Expected<int> half_of(int n) {
    if (n % 2 != 0) return gw::unexpected(gw::Error{std::to_string(n) + " is odd"});
    return n / 2;
}

gw::Expected<void> require_positive(int n) {
    if (n <= 0) return gw::unexpected(gw::Error{"not positive"});
    return {};
}

enum class Reason { refused, full };

}  // namespace

TEST_CASE("an Expected holds the value of a success and no error") {
    auto half = half_of(8);
    REQUIRE(half.has_value());
    REQUIRE(static_cast<bool>(half));
    CHECK(*half == 4);
    CHECK(half.value_or(-1) == 4);
}

TEST_CASE("an Expected holds the reason of a failure and no value") {
    auto half = half_of(7);
    REQUIRE_FALSE(half.has_value());
    CHECK(half.error().message == "7 is odd");
    CHECK(half.value_or(-1) == -1);
    CHECK_THROWS(half.value());
}

TEST_CASE("Expected<void> says only whether it worked, and why not") {
    CHECK(require_positive(1).has_value());
    auto failed = require_positive(0);
    REQUIRE_FALSE(failed);
    CHECK(failed.error().message == "not positive");
}

TEST_CASE("a front end's own reasons serve as the error type") {
    gw::Expected<std::string, Reason> granted = std::string("ok");
    gw::Expected<std::string, Reason> refused = gw::unexpected(Reason::full);
    CHECK(*granted == "ok");
    CHECK(refused.error() == Reason::full);
}

TEST_CASE("an Expected carries move-only values out") {
    gw::Expected<std::unique_ptr<int>> boxed = std::make_unique<int>(5);
    std::unique_ptr<int> taken = std::move(boxed).value();
    CHECK(*taken == 5);
}
