#include "platform/memory.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ferry::platform {

void TuneAllocator() {
#if defined(__GLIBC__)
  mallopt(M_ARENA_MAX, 2);                // the intake and forward threads share two arenas
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);  // fixed: large buffers always go back to the OS
  mallopt(M_TRIM_THRESHOLD, 256 * 1024);  // return free heap tops above this
#endif
}

void ReleaseFreeMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace ferry::platform
