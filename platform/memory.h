// The allocator's policy for a long-running agent whose memory must stay flat.
#pragma once

namespace ferry::platform {

// Fixes glibc's mmap threshold at its initial 128 KiB. By default glibc raises the threshold
// each time a block it had mapped is freed (up to 32 MiB): after the first group commit,
// buffers the size of a group (hundreds of KiB) come from the heap instead, and the heap keeps
// its high-water mark resident. Peak RSS then depended on where those sizes fell: the same
// device traffic peaked at 15.4 or 17.6 MiB with only the gateway id's length changed, and at
// 14.9 for both with the threshold fixed (tests/bench/RESULTS.md, issue 15). Large blocks are
// then mapped and unmapped, a cost that the agent's reused buffers keep to a few per commit.
// Call first in main, before threads start. False when the allocator refused (one that is not
// glibc's, e.g. a sanitizer's).
bool FixAllocatorThresholds();

}  // namespace ferry::platform
