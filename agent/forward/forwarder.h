// The forwarder: takes batches from the queue in sequence order, sends them with the uploader,
// and acts on the verdict (landing-protocol.md, "Response"). It owns retries, backoff, the
// circuit breaker, the bandwidth cap, the linger timer, the upstream counters, and the queue's
// housekeeping (expiry, giving space back). Timers use the monotonic clock.
//
// A batch whose stored blocks cannot be read or decoded is tried kBadBatchTries times (a read
// error may pass); then its first bad block is parted from the readable blocks around it (the
// batch is split at the block's edges) and goes to the dead letters as it is stored, with the
// reason, counted in ferry_records_dead_lettered_total{reason="unreadable_block"}; delivery
// goes on. A block whose data fails to read at the SQL level (SQLITE_CORRUPT, an I/O error)
// comes from the queue marked so (BatchPlan::Block::read_error) and takes the same way, with an
// empty payload. When the queue cannot be read at all (QueueReadBackoff), the forwarder backs
// off from 1 s to 60 s, says so in /status (upstream.state "storage_error", last_error) and
// /readyz (AgentState::SetQueueUnreadable), and goes on by itself once a read succeeds.
//
// Run() is the forwarder thread's body. Wake() may be called from other threads. Round() is
// one step of Run(), for tests with a fake uploader and a fake clock.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <utility>

#include "agent/config/config.h"
#include "agent/forward/backoff.h"
#include "agent/forward/breaker.h"
#include "agent/forward/queue_read_backoff.h"
#include "agent/forward/uploader.h"
#include "agent/forward/verdict.h"
#include "agent/status/agent_state.h"
#include "agent/status/metrics.h"
#include "platform/clock.h"
#include "platform/random.h"
#include "storage/batch_assembler.h"
#include "storage/queue.h"

namespace ferry::agent {

// What the forwarder is doing, for /status ("upstream.state").
enum class UpstreamState {
  kIdle,
  kSending,
  kOk,
  kBackoff,
  kUnreachable,
  kAuthFailed,
  kStorageError,  // the queue cannot be read: see QueueReadBackoff
};
const char* UpstreamStateName(UpstreamState state);

// Milliseconds a body of `bytes` costs under a bandwidth cap of `bytes_per_second` (> 0),
// computed in 64 bits: size_t is 32 bits on armhf.
int64_t SendCostMs(uint64_t bytes, uint64_t bytes_per_second);

class Forwarder {
 public:
  // Tries of a batch whose blocks cannot be read before they go to the dead letters.
  static constexpr uint32_t kBadBatchTries = 3;

  Forwarder(const Config& config, storage::Queue& queue, Uploader& uploader, Metrics& metrics,
            AgentState& state, platform::Clock& clock, platform::Random& random);

  // Returns when `stop` is set (after finishing the request in flight; see Uploader::Abort).
  void Run(const std::atomic<bool>& stop);
  // New records were queued: look now rather than at the next poll.
  void Wake();

  // One round: probe, or form or resume a batch, send it, act on the answer. Returns the time
  // to wait before the next round, in ms (0: go on at once). Not thread-safe against Run().
  int64_t Round();
  // Expiry and giving space back, at most every 10 s.
  void Housekeeping(int64_t now);
  UpstreamState upstream_state() const { return upstream_state_; }
  const CircuitBreaker& breaker() const { return breaker_; }

 private:
  int64_t SendRound(const storage::BatchPlan& plan, int64_t now);
  int64_t Unreadable(const storage::BatchPlan& plan, const platform::Status& st);
  std::pair<uint64_t, uint64_t> FirstBadBlock(const storage::BatchPlan& plan);
  int64_t QueueUnreadable(const std::string& what, const platform::Status& st);
  void QueueReadable();
  int64_t ProbeRound(int64_t now);
  void Apply(const storage::BatchPlan& plan, const Verdict& verdict, const std::string& why);
  void Failed(const Verdict& verdict, const std::string& why);
  void Reject(const storage::BatchPlan& plan, const std::string& reason);
  void Fail(const std::string& what, const platform::Status& st);
  void Publish();
  void WaitFor(int64_t ms, const std::atomic<bool>& stop);

  const Config& config_;
  storage::Queue& queue_;
  Uploader& uploader_;
  Metrics& metrics_;
  AgentState& state_;
  platform::Clock& clock_;
  platform::Random& random_;
  storage::BatchAssembler assembler_;
  storage::AssembledBatch batch_;
  BackoffPolicy backoff_;
  CircuitBreaker breaker_;
  QueueReadBackoff queue_read_;
  UpstreamState upstream_state_ = UpstreamState::kIdle;
  int64_t next_attempt_ms_ = 0;       // monotonic
  int64_t pending_since_ms_ = -1;     // monotonic time records were first seen waiting
  int64_t next_send_allowed_ms_ = 0;  // bandwidth cap
  int64_t next_housekeeping_ms_ = 0;
  uint64_t bad_batch_first_ = 0;  // the batch whose blocks did not read, and how often
  uint32_t bad_batch_tries_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
};

// The Idempotency-Key of a batch: "<gateway>.<epoch>.<first_seq>-<last_seq>".
std::string BatchKey(std::string_view gateway, std::string_view epoch, uint64_t first_seq,
                     uint64_t last_seq);

}  // namespace ferry::agent
