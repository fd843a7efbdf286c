// Reused buffers that do not keep a large group's memory (issue 10, #8): a buffer grown past
// kReleaseAboveBytes for one large group is released after it, so the agent's resident memory
// returns to its usual size instead of holding the high-water mark (up to max_size/8).
#pragma once

#include <cstddef>
#include <string>

namespace ferry::storage {

// Typical groups (up to 1,024 records of a few hundred bytes) stay under this and keep their
// buffers: reallocating them on every group would cost more than it saves.
inline constexpr size_t kKeptBufferBytes = 256u << 10;
inline constexpr size_t kReleaseAboveBytes = 4 * kKeptBufferBytes;

// Empties `buf`; frees its memory too when it holds more than kReleaseAboveBytes.
inline void ClearAndTrim(std::string& buf) {
  if (buf.capacity() > kReleaseAboveBytes) {
    std::string().swap(buf);
  } else {
    buf.clear();
  }
}

}  // namespace ferry::storage
