#include <catch2/catch.hpp>

#include "daemon/nfqueue_kernel_stats.hpp"

namespace gw {
namespace {

// Two queues as the kernel lists them (nfnetlink_queue.c seq_show), right-aligned columns.
constexpr std::string_view two_queues =
    "    0  31089     3 2 65531  1115     7   460006  1\n"
    "    1  31090     0 2 65531     0     0       16  1\n";

TEST_CASE("the kernel's queue-full and undeliverable drops are read for the queue asked for") {
    auto zero = parse_nfqueue_kernel_stats(two_queues, 0);
    REQUIRE(zero);
    CHECK(zero->waiting == 3);
    CHECK(zero->queue_full_drops == 1115);
    CHECK(zero->user_drops == 7);
    auto one = parse_nfqueue_kernel_stats(two_queues, 1);
    REQUIRE(one);
    CHECK(one->queue_full_drops == 0);
}

TEST_CASE("a queue the kernel does not list, or a garbled line, gives no figures") {
    CHECK_FALSE(parse_nfqueue_kernel_stats(two_queues, 2));
    CHECK_FALSE(parse_nfqueue_kernel_stats("    5  1 x\n", 5));
    CHECK_FALSE(parse_nfqueue_kernel_stats("", 0));
}

}  // namespace
}  // namespace gw
