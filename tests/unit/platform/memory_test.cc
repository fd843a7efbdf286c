#include "platform/memory.h"

#include <doctest/doctest.h>
#include <malloc.h>

#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kGlibcMalloc = false;  // ASan brings its own allocator: mallopt does nothing
#else
constexpr bool kGlibcMalloc = true;
#endif

// glibc raises its mmap threshold to the size of a mapped block when that block is freed; after
// that, blocks of a group's size would come from the heap, which keeps its high-water mark.
TEST_CASE("after a large block is freed, a group-sized block is still mapped on its own" *
          doctest::skip(!kGlibcMalloc)) {
  ferry::platform::FixAllocatorThresholds();
  void* large = std::malloc(8u << 20);
  REQUIRE(large != nullptr);
  std::free(large);  // by default the threshold is now 8 MiB
  size_t mapped = mallinfo2().hblks;
  void* group = std::malloc(512u << 10);
  REQUIRE(group != nullptr);
  CHECK(mallinfo2().hblks == mapped + 1);  // mapped, so given back whole when freed
  std::free(group);
  CHECK(mallinfo2().hblks == mapped);
}
