// zstd for request bodies: streaming decompression with a cap on the output size (a small body
// may expand to gigabytes), and compression of bodies that arrived uncompressed.
// Each object keeps its zstd context and buffer between calls to avoid allocations: one per
// thread, not thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "platform/status.h"

namespace ferry::landing {

class Decompressor {
 public:
  enum class Outcome { kOk, kCorrupt, kTooLarge };

  Decompressor();
  ~Decompressor();
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;

  // Decompresses `input`: one zstd frame or several concatenated ones, decoded as one stream.
  // kOk: *out views the content, valid until the next call to Decompress or Trim.
  // kCorrupt: not zstd, damaged, truncated or empty; *error says what zstd reported.
  // kTooLarge: the content is larger than `max_bytes`; decoding stopped there.
  Outcome Decompress(std::string_view input, size_t max_bytes, std::string_view* out,
                     std::string* error);

  // Frees the buffer if it grew beyond `keep_bytes`, so one huge body does not pin memory.
  void Trim(size_t keep_bytes);

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
  std::string buffer_;  // size() is the capacity in use; only a prefix holds output
};

class Compressor {
 public:
  Compressor();
  ~Compressor();
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  // Replaces *out with one zstd frame holding `input` at `level`. kInternal if zstd fails.
  platform::Status Compress(std::string_view input, int level, std::string* out);

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};

}  // namespace ferry::landing
