#include "agent/landing/body_codec.h"

#include <zstd.h>

#include <algorithm>

namespace ferry::landing {

struct Decompressor::Context {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  ~Context() { ZSTD_freeDCtx(dctx); }
};

struct Compressor::Context {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ~Context() { ZSTD_freeCCtx(cctx); }
};

Decompressor::Decompressor() : ctx_(std::make_unique<Context>()) {}
Decompressor::~Decompressor() = default;

Decompressor::Outcome Decompressor::Decompress(std::string_view input, size_t max_bytes,
                                               std::string_view* out, std::string* error) {
  if (ctx_->dctx == nullptr) {
    *error = "cannot create a zstd context";
    return Outcome::kCorrupt;
  }
  ZSTD_DCtx_reset(ctx_->dctx, ZSTD_reset_session_only);
  // The buffer may grow to max_bytes + 1: one byte more than allowed proves the content too large.
  const size_t limit = max_bytes == SIZE_MAX ? max_bytes : max_bytes + 1;
  if (buffer_.size() < 64 * 1024) buffer_.resize(std::min<size_t>(64 * 1024, limit));
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  size_t written = 0;
  size_t hint = 1;  // ZSTD_decompressStream's answer: 0 once a frame is complete
  for (;;) {
    if (written == buffer_.size()) {
      if (buffer_.size() >= limit) return Outcome::kTooLarge;
      buffer_.resize(std::min(limit, buffer_.size() * 2));
    }
    ZSTD_outBuffer ob{buffer_.data(), buffer_.size(), written};
    const size_t in_before = in.pos;
    size_t r = ZSTD_decompressStream(ctx_->dctx, &ob, &in);
    if (ZSTD_isError(r)) {
      *error = ZSTD_getErrorName(r);
      return Outcome::kCorrupt;
    }
    // A call that did nothing after a finished frame answers how much the next frame header
    // needs: only the answer of a call that made progress says whether the stream is complete.
    if (ob.pos != written || in.pos != in_before) hint = r;
    written = ob.pos;
    if (written > max_bytes) return Outcome::kTooLarge;
    // With all input read and room left in the output, zstd has flushed all it can.
    if (in.pos == in.size && ob.pos < ob.size) break;
  }
  if (hint != 0) {
    *error = input.empty() ? "empty body" : "truncated zstd frame";
    return Outcome::kCorrupt;
  }
  *out = std::string_view(buffer_.data(), written);
  return Outcome::kOk;
}

void Decompressor::Trim(size_t keep_bytes) {
  if (buffer_.size() > keep_bytes) std::string().swap(buffer_);
}

Compressor::Compressor() : ctx_(std::make_unique<Context>()) {}
Compressor::~Compressor() = default;

platform::Status Compressor::Compress(std::string_view input, int level, std::string* out) {
  if (ctx_->cctx == nullptr) return platform::Status::Internal("cannot create a zstd context");
  out->resize(ZSTD_compressBound(input.size()));
  size_t n =
      ZSTD_compressCCtx(ctx_->cctx, out->data(), out->size(), input.data(), input.size(), level);
  if (ZSTD_isError(n)) {
    out->clear();
    return platform::Status::Internal(std::string("zstd compress: ") + ZSTD_getErrorName(n));
  }
  out->resize(n);
  return platform::Status::Ok();
}

}  // namespace ferry::landing
