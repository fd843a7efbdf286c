// The C allocator, tuned for a small, long-running agent.
#pragma once

namespace ferry::platform {

// Keeps freed memory from piling up in the C library's allocator. glibc raises its mmap
// threshold to the size of the largest block freed (up to 32 MiB) and keeps one arena per
// thread, so after a few freed multi-MiB batch buffers later ones come from heaps it never
// returns. Fixed thresholds and two arenas keep resident memory close to what is in use.
// Call once at start, before any thread. A no-op with other C libraries.
void TuneAllocator();

// Hands the allocator's free pages back to the OS (malloc_trim), also those in the middle of
// its heaps that the thresholds above cannot reach. Cheap enough to call every second.
void ReleaseFreeMemory();

}  // namespace ferry::platform
