#include "platform/memory.h"

#include <malloc.h>

namespace ferry::platform {

void FixAllocatorThresholds() {
#ifdef M_MMAP_THRESHOLD
  // Setting it turns off glibc's dynamic adjustment of this threshold and of the trim one.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
}

}  // namespace ferry::platform
