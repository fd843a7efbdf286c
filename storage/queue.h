// The durable record queue: a SQLite database (WAL) holding records as compressed blocks of
// NDJSON lines, batch boundaries, removed sequence numbers and dead letters. Format: FORMAT.md.
//
// Records get sequence numbers, strictly increasing within the queue's epoch. A record's id names
// the epoch it was stored in: a new epoch starts when the last run (storage.sync "normal") did
// not close cleanly, since its last commits may be gone after numbers from them had been sent
// (FORMAT.md, "Epochs"); earlier records keep theirs. A group of records
// appended together is one block (one zstd frame, one row) written in one transaction: the
// group commit. Batches are ranges of sequence numbers decided once and kept, so a batch retried
// after a restart carries the same range, records and key.
//
// Thread-safety: all methods may be called from any thread; they serialize on one mutex. Only
// short SQLite work runs under it; batch bodies are assembled by BatchAssembler outside it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "platform/clock.h"
#include "platform/random.h"
#include "platform/status.h"

namespace ferry::storage {

class Db;
class ZstdCodec;

struct QueueOptions {
  std::string path{};                 // database file; its directory is created if missing
  uint64_t max_bytes = 256ull << 20;  // quota for database + WAL on disk
  bool sync_full = true;              // fsync every commit (survives power loss)
  int compression_level = 3;          // zstd level of stored blocks
  bool drop_oldest = false;           // at the quota: drop the oldest records (else refuse)
  // Identifies this boot of the machine: monotonic stamps are compared only within one boot.
  std::string boot_id{};
  // Bound of the dead-letter store, in DeadLetterSize() bytes (inside max_bytes); 0: a quarter
  // of max_bytes. A bound of its own keeps dead letters from filling the quota, which dropping
  // records (drop_oldest) cannot undo.
  uint64_t dead_letter_max_bytes = 0;
  // At that bound: false drops the oldest dead letters in the transaction that added the new
  // ones (counted in QueueStats::dead_letters_dropped); true keeps them all and makes HasRoom()
  // false, saying why, until dead letters are replayed or purged. The dead letters of the group
  // that reaches the bound are kept: it may be passed by one group's worth.
  bool dead_letters_block = false;
  // The SQLite VFS to reach the disk through, by registered name; empty: SQLite's default.
  // Only tests set it (tests/support/fault_vfs.h injects faults and power cuts).
  std::string vfs{};
  // The file is held with SQLite's locking_mode EXCLUSIVE while the queue is open: the WAL index
  // is kept in heap memory (no -shm file written back to flash), and a second process (a second
  // ferry on the same path) cannot open it (kUnavailable). Only tests that read the file
  // through a second connection while the queue is open turn it off.
  bool exclusive = true;
};

struct DeadLetterInput {
  std::string_view reason;
  std::string_view topic;
  std::string_view payload;  // as received, any bytes
  int64_t received_ms = 0;
};

// One metric a Sparkplug B BIRTH message defined (table sparkplug_metrics, FORMAT.md).
struct SparkplugMetricRow {
  std::string scope;  // "group/node" for an edge node, "group/node/device" for a device
  std::string name;
  std::optional<uint64_t> alias;
  uint32_t datatype = 0;
};

// Encodes `count` records whose sequence numbers are first_seq, first_seq+1, ... as NDJSON
// lines (each ending in '\n', exactly `count` lines) appended to `out`.
using EncodeFn = std::function<void(uint64_t first_seq, std::string& out)>;

struct BatchLimits {
  uint32_t max_records = 10'000;
  uint64_t max_raw_bytes = 4ull << 20;  // uncompressed NDJSON
  bool allow_partial = true;            // false: form a new batch only if it reaches a limit
};

struct AppendRequest {
  uint32_t count = 0;                   // records to encode; 0 for dead letters only
  int64_t oldest_received_ms = 0;       // wall time of the group's first record
  int64_t oldest_received_mono_ms = 0;  // monotonic time of the same, for expiry
  EncodeFn encode;
  // At least the bytes `encode` appends, when the caller knows: the buffer is sized once
  // instead of growing by doubling, which would briefly hold the text twice.
  size_t encoded_size_hint = 0;
  std::span<const DeadLetterInput> dead_letters;
  // Opaque bytes kept with the block (or alone when the group has no records), returned by
  // RecentAcks() after a restart: the source's record of which broker deliveries this group
  // holds (see agent/mqtt/redelivery.h).
  std::string_view acks;
  // Dead letters this group replays: deleted in the same transaction.
  std::span<const int64_t> replayed_dead_letters;
  // Sparkplug metrics learnt from the group's BIRTH messages: inserted or replaced (by scope
  // and name) in the same transaction, so they cost no commit of their own.
  std::span<const SparkplugMetricRow> sparkplug_metrics;
  // When set, and no batch waits to be sent (every batch formed before was delivered), the
  // records not in a batch yet (this group's, and any an earlier group left) become the next
  // batch in this same transaction, up to these limits (allow_partial is taken as true): the
  // forwarder then finds the batch formed and sends it without a commit (and an fsync) of its
  // own. The range is written with the records, so a crash keeps both or neither, and a retry
  // sends the same range under the same key. FORMAT.md, "Flash writes".
  std::optional<BatchLimits> seal_batch;
};

struct SeqRange {
  uint64_t first = 0;
  uint64_t last = 0;  // inclusive; first > last when empty
};

struct AppendResult {
  SeqRange range;
  uint64_t dropped = 0;  // older records dropped to make room (drop_oldest policy)
};

// A batch: a range of sequence numbers and the stored blocks that hold them.
struct BatchPlan {
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  // The epoch of its records' ids, for its Idempotency-Key: a batch never spans two epochs.
  std::string epoch;
  uint32_t attempts = 0;  // sends of this batch before, across restarts
  struct Block {
    uint64_t first_seq, last_seq;
    std::string data;  // zstd frame
    // Not ok when `data` could not be read (the row is there, its bytes fail to read: a bad
    // sector, a corrupt page); `data` is then empty. See NextBatch.
    platform::Status read_error;
  };
  std::vector<Block> blocks;
  std::vector<uint64_t> removed;  // seqs in range that are not to be sent, ascending
};

// Where an epoch begins: its records have sequence numbers from first_seq up to the next one's.
struct EpochStart {
  uint64_t first_seq = 1;
  std::string epoch;
};

struct QueueStats {
  std::string epoch;  // the epoch of records stored from now on
  // This open started a new epoch: the last run (storage.sync "normal") did not close cleanly
  // and the machine restarted since, so its last commits may be lost (FORMAT.md, "Epochs").
  bool epoch_started_unclean = false;
  uint64_t records = 0;       // records stored and not yet delivered
  uint64_t stored_bytes = 0;  // compressed bytes of those records' blocks
  uint64_t raw_bytes = 0;     // their NDJSON size
  uint64_t disk_bytes = 0;    // database + WAL on disk
  uint64_t dead_letters = 0;
  int64_t oldest_received_ms = 0;  // 0 when empty
  uint64_t next_seq = 1;
  std::string quarantined;             // path a corrupt file was moved to at open, or ""
  uint64_t max_bytes = 0;              // the quota (storage.max_size)
  uint64_t dead_letter_bytes = 0;      // DeadLetterSize() of every dead letter
  uint64_t dead_letter_max_bytes = 0;  // the bound in force
  bool dead_letters_block = false;     // the policy at the bound
  uint64_t dead_letters_dropped = 0;   // dropped at the bound since the queue was opened
};

struct DeadLetter {
  int64_t id = 0;
  int64_t created_ms = 0;
  int64_t received_ms = 0;
  std::string reason, topic, payload;
  std::optional<uint64_t> seq;  // set when the record had been queued (refused upstream)
};

// What Queue::Peek returns.
struct QueuePeek {
  uint64_t queued = 0;             // records queued in all (QueueStats::records)
  std::vector<std::string> lines;  // the oldest records' NDJSON lines, oldest first
};

class Queue {
 public:
  ~Queue();

  // Opens or creates the queue. A file that is not a valid queue (not SQLite, corrupt, unknown
  // schema version) is moved aside to "<path>.corrupt-<UTC time>" and a new queue with a new
  // epoch is created; stats().quarantined says so. A file that a run with sync_full false left
  // open in an earlier boot of the machine gets a new epoch for the records stored from now on
  // (stats().epoch_started_unclean, logged at warning level). With sync_full false the open
  // marks the file in use with one synced commit, and the destructor clears the mark the same
  // way. Errors: kIoError when the directory or file cannot be created, kNoSpace when the disk
  // is full.
  static platform::Result<std::unique_ptr<Queue>> Open(const QueueOptions& options,
                                                       platform::Clock& clock,
                                                       platform::Random& random);

  // Appends a group of records (one block) and dead letters in one transaction. Returns the
  // records' sequence range. At the quota, the drop_oldest policy deletes the oldest records in
  // the same transaction (counted in the result); otherwise kNoSpace. kNoSpace also when the
  // disk is full, kIoError for a failed write or sync: in both cases nothing is stored.
  platform::Result<AppendResult> Append(const AppendRequest& request);
  // False while the queue is at its quota and the policy is to refuse, or the filesystem is
  // nearly full: intake should wait. `why` says which.
  bool HasRoom(std::string* why = nullptr);
  // The most bytes one group of records should bring, for a quota of `max_bytes`: intake keeps
  // its groups under it so that one group always fits.
  static uint64_t MaxGroupBytes(uint64_t max_bytes);
  // Changes the quota and its policy (a config reload).
  void SetPolicy(uint64_t max_bytes, bool drop_oldest);
  // Drops records older than `max_age_ms`; returns how many. Within one boot ages come from the
  // monotonic clock, so a wall-clock jump neither expires records early nor keeps them late;
  // records from an earlier boot are aged by wall time, unless their stamp predates 2000
  // (a clock that was not set), which never expires.
  platform::Result<uint64_t> Expire(int64_t max_age_ms);
  // Returns free pages to the filesystem when enough have piled up (incremental vacuum).
  platform::Status GiveBackSpace();

  // The oldest unacknowledged batch, or a new one formed from the oldest records not in a batch
  // yet; nullopt when there is nothing to send (or not enough and !limits.allow_partial).
  // A block whose row is found but whose data fails to read (kCorruption, kIoError) does not
  // fail the call: it comes back with Block::read_error set and no data, so that the caller can
  // set that block aside (DeadLetterUnreadableBatch) and go on. An error is returned when the
  // queue itself cannot be read: the batches or the blocks' rows cannot be listed, a lock is
  // refused, or no block of a batch of several reads (not one block's fault).
  platform::Result<std::optional<BatchPlan>> NextBatch(const BatchLimits& limits);
  // The batch was delivered: its records leave the queue (counters, NextBatch) at once, and
  // their rows are deleted in the next write transaction (an append, the next batch), not in a
  // commit of their own: until then a power cut brings the batch back, to be sent again under
  // the same Idempotency-Key (FORMAT.md, "Flash writes"). kInvalidArgument for a batch that is
  // not the oldest one.
  platform::Status Ack(uint64_t first_seq, uint64_t last_seq);
  // Writes the deletes of delivered batches now (the destructor does too).
  platform::Status Flush();
  // Counts one more send attempt of the batch.
  platform::Status NoteAttempt(uint64_t first_seq);
  // Replaces the batch by two halves split by sequence range (for 413 and bisection).
  // kInvalidArgument when the batch holds a single sequence number.
  platform::Status SplitBatch(uint64_t first_seq, uint64_t last_seq);
  // Replaces the batch [first_seq, last_seq] by [first_seq, at-1] and [at, last_seq] (to part
  // a block that cannot be read from the rest). kInvalidArgument unless first_seq < at <= last_seq.
  platform::Status SplitBatchAt(uint64_t first_seq, uint64_t last_seq, uint64_t at);
  // Moves the records of a (usually one-record) batch to the dead letters with `reason`;
  // `lines` are the records as sent, one per line. The batch leaves the queue.
  platform::Status DeadLetterBatch(uint64_t first_seq, uint64_t last_seq, std::string_view reason,
                                   std::string_view lines);
  // For a batch whose stored blocks cannot be read or decoded (the forwarder gave up on it):
  // moves each block overlapping [first_seq, last_seq] to the dead letters as it is stored
  // (its zstd bytes as the payload, no topic, `reason`; a block that began in an earlier batch
  // is not copied again), and the batch leaves the queue like a delivered one, so delivery
  // goes on. Returns the records that left (the range less the numbers removed before). When
  // even the rows cannot be read, one dead letter with an empty payload says so. Errors as
  // DeadLetterBatch (kIoError, kNoSpace, kInvalidArgument when an older batch is pending).
  platform::Result<uint64_t> DeadLetterUnreadableBatch(uint64_t first_seq, uint64_t last_seq,
                                                       std::string_view reason);

  // Dead letters, oldest first; `after_id` for paging.
  platform::Result<std::vector<DeadLetter>> ListDeadLetters(int64_t after_id, int limit);
  // The dead letters with these ids (those that exist).
  platform::Result<std::vector<DeadLetter>> GetDeadLetters(std::span<const int64_t> ids);
  // Deletes the dead letters with these ids (those that exist), or every one when `all`;
  // returns how many went. The space counts as free at once (HasRoom), and is given back to the
  // filesystem by GiveBackSpace. kIoError when the delete cannot be committed (nothing goes).
  platform::Result<uint64_t> PurgeDeadLetters(std::span<const int64_t> ids, bool all = false);
  // Changes the dead-letter bound and policy (see QueueOptions; 0: a quarter of the quota).
  // Under drop_oldest, dead letters beyond the new bound are dropped at once (counted).
  platform::Status SetDeadLetterPolicy(uint64_t max_bytes, bool block);
  // What one dead letter counts against the bound: its payload, topic and reason, and a row.
  static uint64_t DeadLetterSize(size_t payload, size_t topic, size_t reason) {
    return payload + topic + reason + kDeadLetterRowBytes;
  }
  static constexpr uint64_t kDeadLetterRowBytes = 64;

  // Acks are kept for the blocks among the newest kAckWindowSeqs sequence numbers, also after
  // the blocks were delivered (a delivered group's PUBACKs may still have been lost), and for
  // the newest two groups whatever their size: a group can hold more records than the window
  // (a route that explodes each message into many), and its PUBACKs, or the group's before
  // it, may be the ones lost.
  static constexpr uint64_t kAckWindowSeqs = 8192;
  // Rows of kept acks at most (each holds a group's acks, one at least).
  static constexpr int kKeptAckRows = 4096;
  // The `acks` of the newest groups, newest first, until at least `min_bytes` are collected.
  platform::Result<std::vector<std::string>> RecentAcks(size_t min_bytes);

  // A read-only look at the head of the queue (`ferry queue peek`): the NDJSON lines of the
  // oldest `limit` records still queued, oldest first, each without its '\n', as they will be
  // sent (delivered and removed records left out), and how many records are queued in all.
  // Only the rows are read under the lock; the blocks are decoded outside it. Errors: kIoError
  // when the rows cannot be read, kCorruption when a stored block does not decode.
  platform::Result<QueuePeek> Peek(size_t limit);

  // Every Sparkplug metric kept (AppendRequest::sparkplug_metrics), to load at start.
  // kIoError when they cannot be read.
  platform::Result<std::vector<SparkplugMetricRow>> LoadSparkplugMetrics();

  QueueStats Stats();
  // Bytes of buffers kept between appends (capacity); a large group's are released after it.
  size_t BufferBytes();
  // The epoch of the records stored from now on (it changes only at open). A queued record's
  // may be an earlier one: BatchPlan::epoch says which.
  const std::string& epoch() const { return epoch_; }

 private:
  Queue(QueueOptions options, platform::Clock& clock);
  platform::Status Init(platform::Random& random);
  platform::Status LoadCounters();
  platform::Status RecordBoot();
  // queue_epochs.cc: which epoch each sequence number has, and a new one after an unclean stop.
  platform::Status LoadEpochs();
  platform::Status StartRun(platform::Random& random);
  void StartEpoch(platform::Random& random, const std::string& why);
  platform::Status WriteRunStart(bool new_epoch, const std::optional<std::string>& last_mark);
  void EndRun();
  const std::string& EpochOf(uint64_t seq) const;
  uint64_t EpochLastSeq(uint64_t seq) const;
  platform::Status PruneEpochs(uint64_t acked_through);
  platform::Status PrepareStatements();
  platform::Status Commit(std::string_view what);
  platform::Result<std::optional<BatchPlan>> LoadBatch(uint64_t first, uint64_t last,
                                                       uint32_t attempts);
  platform::Status ReadBlocks(uint64_t first, uint64_t last, std::vector<BatchPlan::Block>* out);
  platform::Status ReadBlocksApart(uint64_t first, uint64_t last, const platform::Status& error,
                                   std::vector<BatchPlan::Block>* out);
  platform::Result<std::optional<std::pair<uint64_t, uint64_t>>> FormBatch(
      const BatchLimits& limits);
  platform::Status InsertDeadLetters(std::span<const DeadLetterInput> dead_letters);
  platform::Status InsertSparkplugMetrics(std::span<const SparkplugMetricRow> rows);
  // queue_dead_letters.cc: the dead-letter store's bound.
  platform::Status CountDeadLetterBytes();
  uint64_t DeadLetterLimit() const;
  bool DeadLettersFull(std::string* why) const;
  platform::Status TrimDeadLetters();
  // queue_delivered.cc: the file's write policy and the deletes of delivered records.
  platform::Status SealBatch(BatchLimits limits);
  platform::Status SetNewFilePageSize();
  platform::Status ApplyWritePolicy();
  platform::Status CheckInOrder(uint64_t first_seq);
  platform::Status CountDelivered(uint64_t last_seq);
  platform::Status DeleteRows(uint64_t last_seq);
  platform::Status DeletePendingRows();
  platform::Status FlushDeletes();
  platform::Status FlushDeletesNow();
  platform::Status DeleteThrough(uint64_t last_seq);
  platform::Status KeepDeliveredAcks(uint64_t last_seq);
  uint64_t AckWindowStart() const;
  platform::Status LoadNewestGroups();
  platform::Status FinishBatch(uint64_t first_seq, uint64_t last_seq,
                               std::span<const std::string_view> dead,
                               std::string_view reason = {});
  uint64_t DiskBytes();
  platform::Result<uint64_t> UsedBytes();
  platform::Result<bool> OverQuota(uint64_t needed);
  uint64_t WalReserve() const;
  platform::Status WriteSnapshot();
  platform::Status DropHead(uint64_t through_seq, uint64_t* dropped);
  platform::Result<uint64_t> MakeRoom(uint64_t needed);
  void AfterHeadRemoved(uint64_t last_seq, uint64_t removed_in_range);

  struct Statements;

  QueueOptions options_;
  platform::Clock& clock_;
  std::mutex mu_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<Statements> stmts_;
  std::unique_ptr<ZstdCodec> codec_;
  std::string epoch_;               // epochs_.back().epoch
  std::vector<EpochStart> epochs_;  // ascending; every epoch a queued record may have
  bool epoch_started_unclean_ = false;
  bool marked_in_use_ = false;  // meta `running` is this run's, to clear at a clean close
  std::string quarantined_;
  std::string scratch_;  // reused encode buffer
  std::string block_;    // reused compressed buffer
  // Everything the queue counts, restored as a whole when a transaction rolls back.
  struct Counters {
    uint64_t next_seq = 1;
    uint64_t acked_through = 0;           // every seq <= this has left the queue
    uint64_t delete_pending_through = 0;  // delivered; rows not deleted yet (0: none)
    uint64_t batched_through = 0;         // every seq <= this is in a batch (or gone)
    uint64_t records = 0;
    uint64_t stored_bytes = 0;
    uint64_t raw_bytes = 0;
    uint64_t dead_letters = 0;
    uint64_t dead_letter_bytes = 0;
    uint64_t dead_letters_dropped = 0;
    int64_t oldest_received_ms = 0;
    uint64_t epochs_kept_from = 0;  // index in epochs_ of the first epoch meta `epochs` names
    uint64_t newest_group_seq = 0;  // first seq of the newest group (0: none)
    uint64_t older_group_seq = 0;   // the same of the group before it
  } c_;
  int64_t dead_letter_drop_logged_ms_ = -1;  // monotonic time of the last drop warning
  uint64_t page_size_ = 4096;
  uint64_t boot_first_seq_ = 1;  // blocks from this seq on carry this boot's monotonic stamps
  uint32_t appends_since_snapshot_ = 0;
  uint64_t last_needed_ = 0;  // bytes the last group of records needed
};

}  // namespace ferry::storage
