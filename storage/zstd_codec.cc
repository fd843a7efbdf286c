#include "storage/zstd_codec.h"

#include <zstd.h>

namespace ferry::storage {

using platform::Status;

struct ZstdCodec::Contexts {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_DCtx* d = ZSTD_createDCtx();
};

ZstdCodec::ZstdCodec() : ctx_(new Contexts) {}

ZstdCodec::~ZstdCodec() {
  ZSTD_freeCCtx(ctx_->c);
  ZSTD_freeDCtx(ctx_->d);
  delete ctx_;
}

Status ZstdCodec::Compress(std::string_view input, int level, std::string& out) {
  size_t old = out.size();
  out.resize(old + ZSTD_compressBound(input.size()));
  ZSTD_CCtx_setParameter(ctx_->c, ZSTD_c_compressionLevel, level);
  size_t n = ZSTD_compress2(ctx_->c, out.data() + old, out.size() - old, input.data(), input.size());
  if (ZSTD_isError(n)) {
    out.resize(old);
    return Status::Internal(std::string("zstd compress: ") + ZSTD_getErrorName(n));
  }
  out.resize(old + n);
  return Status::Ok();
}

Status ZstdCodec::Decompress(std::string_view input, size_t max_bytes, std::string& out) {
  ZSTD_DCtx_reset(ctx_->d, ZSTD_reset_session_only);
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  size_t start = out.size();
  size_t ret = 0;
  while (in.pos < in.size) {
    size_t old = out.size();
    out.resize(old + ZSTD_DStreamOutSize());
    ZSTD_outBuffer ob{out.data() + old, out.size() - old, 0};
    ret = ZSTD_decompressStream(ctx_->d, &ob, &in);
    out.resize(old + ob.pos);
    if (ZSTD_isError(ret)) return Status::Corruption(std::string("zstd: ") + ZSTD_getErrorName(ret));
    if (out.size() - start > max_bytes) return Status::Corruption("zstd: content over size limit");
  }
  // Flush what the decoder still holds for the last frame.
  while (ret != 0) {
    size_t old = out.size();
    out.resize(old + ZSTD_DStreamOutSize());
    ZSTD_outBuffer ob{out.data() + old, out.size() - old, 0};
    ret = ZSTD_decompressStream(ctx_->d, &ob, &in);
    out.resize(old + ob.pos);
    if (ZSTD_isError(ret)) return Status::Corruption(std::string("zstd: ") + ZSTD_getErrorName(ret));
    if (ob.pos == 0 && ret != 0) return Status::Corruption("zstd: truncated frame");
    if (out.size() - start > max_bytes) return Status::Corruption("zstd: content over size limit");
  }
  return Status::Ok();
}

}  // namespace ferry::storage
