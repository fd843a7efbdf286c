// zstd compression with reused contexts (one per owner; not thread-safe).
#pragma once

#include <string>
#include <string_view>

#include "platform/status.h"

namespace ferry::storage {

class ZstdCodec {
 public:
  ZstdCodec();
  ~ZstdCodec();
  ZstdCodec(const ZstdCodec&) = delete;
  ZstdCodec& operator=(const ZstdCodec&) = delete;

  // Appends one zstd frame holding `input` (with its content size) to `out`. kInternal when
  // zstd refuses (no memory for a context, a level it does not take).
  platform::Status Compress(std::string_view input, int level, std::string& out);
  // Appends the decompressed content of `input` (one or more frames) to `out`.
  // kCorruption if the bytes are not valid zstd or decompress beyond `max_bytes`.
  platform::Status Decompress(std::string_view input, size_t max_bytes, std::string& out);

  // Streaming compression of one frame whose content arrives in pieces, so a large frame never
  // needs its whole input in memory: BeginFrame, Feed any number of times, EndFrame. The
  // compressed bytes are appended to `out` as they come.
  // kInternal when zstd refuses (as Compress); Feed and EndFrame then refuse too.
  platform::Status BeginFrame(int level);
  platform::Status Feed(std::string_view input, std::string& out);
  platform::Status EndFrame(std::string& out);

  // Bytes of scratch space kept between calls. After a frame over storage/buffers.h's
  // kReleaseAboveBytes it is released, so one large group does not hold its memory.
  size_t BufferBytes() const;

 private:
  struct Contexts;
  Contexts* ctx_;
};

}  // namespace ferry::storage
