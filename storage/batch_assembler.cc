#include "storage/batch_assembler.h"

#include <algorithm>

#include "storage/zstd_codec.h"

namespace ferry::storage {

using platform::Status;

namespace {

// Stored blocks smaller than this are merged and recompressed: many tiny frames compress badly.
constexpr size_t kMinStoredBlockBytes = 4096;
// A block decompresses to at most this much (a group commit is bounded well below it).
constexpr size_t kMaxBlockBytes = 512u << 20;

}  // namespace

BatchAssembler::BatchAssembler(int level) : level_(level), codec_(std::make_unique<ZstdCodec>()) {}
BatchAssembler::~BatchAssembler() = default;

bool BatchAssembler::CanSendAsStored(const BatchPlan& plan) const {
  if (level_ == 0 || !plan.removed.empty() || plan.blocks.empty()) return false;
  size_t total = 0;
  uint64_t expect = plan.first_seq;
  for (const auto& b : plan.blocks) {
    if (b.first_seq != expect || b.last_seq > plan.last_seq) return false;
    expect = b.last_seq + 1;
    total += b.data.size();
  }
  if (expect != plan.last_seq + 1) return false;
  return plan.blocks.size() == 1 || total / plan.blocks.size() >= kMinStoredBlockBytes;
}

Status BatchAssembler::Lines(const BatchPlan& plan, std::string* ndjson, uint32_t* records) {
  ndjson->clear();
  *records = 0;
  auto removed = plan.removed.begin();
  for (const auto& b : plan.blocks) {
    block_.clear();
    Status st = codec_->Decompress(b.data, kMaxBlockBytes, block_);
    if (!st.ok()) return st.WithContext("block " + std::to_string(b.first_seq));
    std::string_view rest = block_;
    for (uint64_t seq = b.first_seq; seq <= b.last_seq; ++seq) {
      size_t nl = rest.find('\n');
      if (nl == std::string_view::npos) {
        return Status::Corruption("block " + std::to_string(b.first_seq) + " ends before seq " +
                                  std::to_string(seq));
      }
      std::string_view line = rest.substr(0, nl + 1);
      rest.remove_prefix(nl + 1);
      if (seq < plan.first_seq || seq > plan.last_seq) continue;
      while (removed != plan.removed.end() && *removed < seq) ++removed;
      if (removed != plan.removed.end() && *removed == seq) continue;
      ndjson->append(line);
      ++*records;
    }
  }
  return Status::Ok();
}

Status BatchAssembler::Assemble(const BatchPlan& plan, AssembledBatch* out) {
  out->body.clear();
  out->records = 0;
  out->raw_bytes = 0;
  out->compressed = level_ != 0;
  if (CanSendAsStored(plan)) {
    for (const auto& b : plan.blocks) {
      out->body.append(b.data);
      out->records += static_cast<uint32_t>(b.last_seq - b.first_seq + 1);
    }
    return Status::Ok();
  }
  FERRY_RETURN_IF_ERROR(Lines(plan, &lines_, &out->records));
  out->raw_bytes = lines_.size();
  if (level_ == 0) {
    out->body.swap(lines_);
    return Status::Ok();
  }
  return codec_->Compress(lines_, level_, out->body);
}

}  // namespace ferry::storage
