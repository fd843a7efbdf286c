#include "platform/memory.h"

#include <malloc.h>

namespace ferry::platform {

bool FixAllocatorThresholds() {
#ifdef M_MMAP_THRESHOLD
  // Setting it turns off glibc's dynamic adjustment of this threshold and of the trim one.
  return mallopt(M_MMAP_THRESHOLD, 128 * 1024) == 1;
#else
  return false;
#endif
}

}  // namespace ferry::platform
