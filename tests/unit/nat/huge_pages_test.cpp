#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "nat/huge_pages.hpp"

namespace gw {

TEST_CASE("a table of 2 MiB or more starts on a huge-page boundary, so the kernel can back it with huge pages") {
    std::vector<std::uint32_t, HugePageAllocator<std::uint32_t>> big(std::size_t(3) << 20, 7);
    CHECK(reinterpret_cast<std::uintptr_t>(big.data()) % HugePageAllocator<std::uint32_t>::huge_page == 0);
    CHECK(big.front() == 7);
    CHECK(big.back() == 7);
}

TEST_CASE("a small table comes from the ordinary heap and is freed like one") {
    std::vector<std::uint64_t, HugePageAllocator<std::uint64_t>> small(100, 1);
    small.resize(200, 2);  // reallocates: the small block goes back through operator delete
    CHECK(small[0] == 1);
    CHECK(small[199] == 2);
}

}  // namespace gw
