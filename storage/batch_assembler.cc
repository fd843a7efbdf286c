#include "storage/batch_assembler.h"

#include <algorithm>

#include "storage/buffers.h"
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
    if (!b.read_error.ok()) return false;  // ForEachBlock reports it
    if (b.first_seq != expect || b.last_seq > plan.last_seq) return false;
    expect = b.last_seq + 1;
    total += b.data.size();
  }
  if (expect != plan.last_seq + 1) return false;
  return plan.blocks.size() == 1 || total / plan.blocks.size() >= kMinStoredBlockBytes;
}

// Calls `sink` with runs of consecutive lines of the batch, one stored block at a time.
template <typename Sink>
Status BatchAssembler::ForEachRun(const BatchPlan& plan, uint32_t* records, Sink sink) {
  Status st = ForEachBlock(plan, records, sink);
  ClearAndTrim(block_);  // a large block's memory is not kept for the next batch
  return st;
}

template <typename Sink>
Status BatchAssembler::ForEachBlock(const BatchPlan& plan, uint32_t* records, Sink sink) {
  *records = 0;
  auto removed = plan.removed.begin();
  for (const auto& b : plan.blocks) {
    if (!b.read_error.ok()) return b.read_error.WithContext("block " + std::to_string(b.first_seq));
    block_.clear();
    Status st = codec_->Decompress(b.data, kMaxBlockBytes, block_);
    if (!st.ok()) return st.WithContext("block " + std::to_string(b.first_seq));
    std::string_view rest = block_;
    const char* run = nullptr;  // start of the current run of lines to keep
    size_t run_len = 0;
    for (uint64_t seq = b.first_seq; seq <= b.last_seq; ++seq) {
      size_t nl = rest.find('\n');
      if (nl == std::string_view::npos) {
        return Status::Corruption("block " + std::to_string(b.first_seq) + " ends before seq " +
                                  std::to_string(seq));
      }
      std::string_view line = rest.substr(0, nl + 1);
      rest.remove_prefix(nl + 1);
      while (removed != plan.removed.end() && *removed < seq) ++removed;
      bool keep = seq >= plan.first_seq && seq <= plan.last_seq &&
                  !(removed != plan.removed.end() && *removed == seq);
      if (keep) {
        if (!run) run = line.data();
        run_len += line.size();
        ++*records;
      } else if (run) {
        FERRY_RETURN_IF_ERROR(sink(std::string_view(run, run_len)));
        run = nullptr, run_len = 0;
      }
    }
    if (run) FERRY_RETURN_IF_ERROR(sink(std::string_view(run, run_len)));
  }
  return Status::Ok();
}

Status BatchAssembler::Lines(const BatchPlan& plan, std::string* ndjson, uint32_t* records) {
  ndjson->clear();
  return ForEachRun(plan, records, [&](std::string_view lines) {
    ndjson->append(lines);
    return Status::Ok();
  });
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
  if (level_ == 0) {
    FERRY_RETURN_IF_ERROR(Lines(plan, &out->body, &out->records));
    out->raw_bytes = out->body.size();
    return Status::Ok();
  }
  // One frame, fed a block at a time: the raw batch is never whole in memory.
  FERRY_RETURN_IF_ERROR(codec_->BeginFrame(level_));
  FERRY_RETURN_IF_ERROR(ForEachRun(plan, &out->records, [&](std::string_view lines) {
    out->raw_bytes += lines.size();
    return codec_->Feed(lines, out->body);
  }));
  return codec_->EndFrame(out->body);
}

size_t BatchAssembler::BufferBytes() const { return block_.capacity() + codec_->BufferBytes(); }

}  // namespace ferry::storage
