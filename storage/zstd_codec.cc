#include "storage/zstd_codec.h"

#include <zstd.h>

#include <memory>

#include "storage/buffers.h"

namespace ferry::storage {

using platform::Status;

struct ZstdCodec::Contexts {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_DCtx* d = ZSTD_createDCtx();
  // Worst-case output space for one frame, reused: growing a std::string to the bound would
  // zero-fill megabytes on every call.
  std::unique_ptr<char[]> scratch;
  size_t scratch_size = 0;
};

ZstdCodec::ZstdCodec() : ctx_(new Contexts) {}

ZstdCodec::~ZstdCodec() {
  ZSTD_freeCCtx(ctx_->c);
  ZSTD_freeDCtx(ctx_->d);
  delete ctx_;
}

namespace {

// ZSTD_createCCtx/DCtx return null without memory: such a codec refuses every call.
Status Check(const void* ctx, const char* what) {
  return ctx ? Status::Ok() : Status::Internal(std::string("zstd: no memory for a ") + what);
}

Status SetLevel(ZSTD_CCtx* c, int level) {
  size_t rc = ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
  if (ZSTD_isError(rc)) {
    return Status::Internal("zstd: compression level " + std::to_string(level) + ": " +
                            ZSTD_getErrorName(rc));
  }
  return Status::Ok();
}

}  // namespace

Status ZstdCodec::Compress(std::string_view input, int level, std::string& out) {
  FERRY_RETURN_IF_ERROR(Check(ctx_->c, "compression context"));
  FERRY_RETURN_IF_ERROR(SetLevel(ctx_->c, level));
  size_t bound = ZSTD_compressBound(input.size());
  if (ctx_->scratch_size < bound) {
    ctx_->scratch.reset(new char[bound]);
    ctx_->scratch_size = bound;
  }
  size_t n = ZSTD_compress2(ctx_->c, ctx_->scratch.get(), bound, input.data(), input.size());
  if (!ZSTD_isError(n)) out.append(ctx_->scratch.get(), n);
  if (ctx_->scratch_size > kReleaseAboveBytes) {  // a large group: do not keep its memory
    ctx_->scratch.reset();
    ctx_->scratch_size = 0;
  }
  if (ZSTD_isError(n))
    return Status::Internal(std::string("zstd compress: ") + ZSTD_getErrorName(n));
  return Status::Ok();
}

size_t ZstdCodec::BufferBytes() const { return ctx_->scratch_size; }

Status ZstdCodec::Decompress(std::string_view input, size_t max_bytes, std::string& out) {
  FERRY_RETURN_IF_ERROR(Check(ctx_->d, "decompression context"));
  // A single frame written by Compress carries its size: decompress in one call into exact space.
  bool single = ZSTD_findFrameCompressedSize(input.data(), input.size()) == input.size();
  unsigned long long known =
      single ? ZSTD_getFrameContentSize(input.data(), input.size()) : ZSTD_CONTENTSIZE_UNKNOWN;
  if (known != ZSTD_CONTENTSIZE_UNKNOWN && known != ZSTD_CONTENTSIZE_ERROR) {
    if (known > max_bytes) return Status::Corruption("zstd: content over size limit");
    size_t old = out.size();
    out.resize(old + known);
    size_t n = ZSTD_decompressDCtx(ctx_->d, out.data() + old, known, input.data(), input.size());
    if (ZSTD_isError(n) || n != known) {
      out.resize(old);
      return Status::Corruption(std::string("zstd: ") +
                                (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size mismatch"));
    }
    return Status::Ok();
  }
  ZSTD_DCtx_reset(ctx_->d, ZSTD_reset_session_only);
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  size_t start = out.size();
  size_t ret = 1;
  // Until all input is read and the decoder holds nothing more of the last frame.
  while (in.pos < in.size || ret != 0) {
    size_t old = out.size();
    out.resize(old + ZSTD_DStreamOutSize());
    ZSTD_outBuffer ob{out.data() + old, out.size() - old, 0};
    ret = ZSTD_decompressStream(ctx_->d, &ob, &in);
    out.resize(old + ob.pos);
    if (ZSTD_isError(ret)) {
      return Status::Corruption(std::string("zstd: ") + ZSTD_getErrorName(ret));
    }
    if (in.pos == in.size && ob.pos == 0 && ret != 0) {
      return Status::Corruption("zstd: truncated frame");
    }
    if (out.size() - start > max_bytes) return Status::Corruption("zstd: content over size limit");
  }
  return Status::Ok();
}

Status ZstdCodec::BeginFrame(int level) {
  FERRY_RETURN_IF_ERROR(Check(ctx_->c, "compression context"));
  ZSTD_CCtx_reset(ctx_->c, ZSTD_reset_session_only);
  return SetLevel(ctx_->c, level);
}

namespace {

Status Pump(ZSTD_CCtx* c, std::string_view input, ZSTD_EndDirective mode, std::string& out) {
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  for (;;) {
    size_t old = out.size();
    out.resize(old + ZSTD_CStreamOutSize());
    ZSTD_outBuffer ob{out.data() + old, out.size() - old, 0};
    size_t left = ZSTD_compressStream2(c, &ob, &in, mode);
    out.resize(old + ob.pos);
    if (ZSTD_isError(left))
      return Status::Internal(std::string("zstd: ") + ZSTD_getErrorName(left));
    bool done = mode == ZSTD_e_end ? left == 0 : in.pos == in.size;
    if (done) return Status::Ok();
  }
}

}  // namespace

Status ZstdCodec::Feed(std::string_view input, std::string& out) {
  FERRY_RETURN_IF_ERROR(Check(ctx_->c, "compression context"));
  return Pump(ctx_->c, input, ZSTD_e_continue, out);
}

Status ZstdCodec::EndFrame(std::string& out) {
  FERRY_RETURN_IF_ERROR(Check(ctx_->c, "compression context"));
  return Pump(ctx_->c, {}, ZSTD_e_end, out);
}

}  // namespace ferry::storage
