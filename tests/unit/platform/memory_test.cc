#include "platform/memory.h"

#include <doctest/doctest.h>
#include <malloc.h>

#include <cstdlib>

// A sanitizer brings its own allocator, which ignores mallopt or keeps no glibc counts (GCC
// says so with __SANITIZE_*__, clang with __has_feature).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FERRY_SANITIZER_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define FERRY_SANITIZER_ALLOCATOR 1
#endif
#endif
#ifdef FERRY_SANITIZER_ALLOCATOR
constexpr bool kGlibcMalloc = false;
#else
constexpr bool kGlibcMalloc = true;
#endif

// glibc raises its mmap threshold to the size of a mapped block when that block is freed; after
// that, blocks of a group's size would come from the heap, which keeps its high-water mark.
// The sizes are chosen above all the free memory the heap holds (earlier tests leave some): a
// block that size cannot be carved from a free chunk, so it is either mapped or grows the heap.
TEST_CASE("after a large block is freed, a group-sized block is still mapped on its own" *
          doctest::skip(!kGlibcMalloc)) {
  REQUIRE(ferry::platform::FixAllocatorThresholds());
  const size_t group_size = mallinfo2().fordblks + (1u << 20);
  void* large = std::malloc(2 * group_size + (8u << 20));
  REQUIRE(large != nullptr);
  std::free(large);  // by default the threshold is now above group_size
  size_t mapped = mallinfo2().hblks;
  void* group = std::malloc(group_size);
  REQUIRE(group != nullptr);
  CHECK(mallinfo2().hblks == mapped + 1);  // mapped, so given back whole when freed
  std::free(group);
  CHECK(mallinfo2().hblks == mapped);
}
