// Turns a BatchPlan into a request body: zstd-compressed NDJSON of the batch's records, in
// sequence order. Stored blocks that lie wholly inside the batch and are big enough are sent as
// they are (zstd frames concatenate); otherwise the lines are cut out and compressed once.
// Not thread-safe: one assembler per forwarder thread (it reuses zstd contexts and buffers).
#pragma once

#include <cstdint>
#include <string>

#include "platform/status.h"
#include "storage/queue.h"

namespace ferry::storage {

struct AssembledBatch {
  std::string body;  // compressed unless `compressed` is false
  bool compressed = true;
  uint32_t records = 0;    // lines in the body
  uint64_t raw_bytes = 0;  // NDJSON size before compression
};

class ZstdCodec;

class BatchAssembler {
 public:
  // `level` is the zstd level for recompressed bodies; 0 sends plain NDJSON.
  explicit BatchAssembler(int level);
  ~BatchAssembler();

  // kCorruption when a stored block does not decompress or holds fewer lines than its range;
  // a block whose data could not be read (BatchPlan::Block::read_error) fails with that error.
  platform::Status Assemble(const BatchPlan& plan, AssembledBatch* out);
  // The batch's NDJSON lines, uncompressed (for dead-lettering refused records).
  platform::Status Lines(const BatchPlan& plan, std::string* ndjson, uint32_t* records);
  // Bytes of buffers kept between calls; a large block's are released after use.
  size_t BufferBytes() const;

 private:
  bool CanSendAsStored(const BatchPlan& plan) const;
  template <typename Sink>
  platform::Status ForEachRun(const BatchPlan& plan, uint32_t* records, Sink sink);
  template <typename Sink>
  platform::Status ForEachBlock(const BatchPlan& plan, uint32_t* records, Sink sink);

  int level_;
  std::unique_ptr<ZstdCodec> codec_;
  std::string block_;
};

}  // namespace ferry::storage
