// Memory for the engine's big tables (flow records, record indexes), asked of the
// kernel as transparent huge pages (2 MiB): with a million flows every lookup lands on
// a random 4 KiB page, and each TLB miss's page walk stalls the packet on top of the
// cache miss (perf on bench/flow_memory). The advice must come before the pages are
// first touched, hence an allocator rather than a call after the vector is built. A
// hint only: with THP set to "never" nothing changes but the speed.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <new>

namespace gw {

template <class T>
struct HugePageAllocator {
    using value_type = T;
    static constexpr std::size_t huge_page = std::size_t(2) << 20;

    HugePageAllocator() = default;
    template <class U>
    HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

    T* allocate(std::size_t n) {
        const std::size_t bytes = n * sizeof(T);
        if (bytes < huge_page) return static_cast<T*>(::operator new(bytes));
        // Not rounded up to whole huge pages: the tail's last partial one stays small.
        void* memory = nullptr;
        if (posix_memalign(&memory, huge_page, bytes) != 0) throw std::bad_alloc();
        madvise(memory, bytes / huge_page * huge_page, MADV_HUGEPAGE);
        return static_cast<T*>(memory);
    }
    void deallocate(T* p, std::size_t n) noexcept {
        if (n * sizeof(T) < huge_page) ::operator delete(p);
        else std::free(p);
    }
    template <class U>
    bool operator==(const HugePageAllocator<U>&) const noexcept { return true; }
};

}  // namespace gw
