// The forwarder: takes batches from the queue in sequence order, sends them with the uploader,
// and acts on the verdict (landing-protocol.md, "Response"). It owns retries, backoff, the
// circuit breaker, the bandwidth cap, the linger timer, the upstream counters, and the queue's
// housekeeping (expiry, giving space back). Timers use the monotonic clock.
//
// Run() is the forwarder thread's body. Wake() may be called from other threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "agent/config/config.h"
#include "agent/forward/backoff.h"
#include "agent/forward/breaker.h"
#include "agent/forward/uploader.h"
#include "agent/forward/verdict.h"
#include "agent/status/agent_state.h"
#include "agent/status/metrics.h"
#include "platform/clock.h"
#include "platform/random.h"
#include "storage/batch_assembler.h"
#include "storage/queue.h"

namespace ferry::agent {

class Forwarder {
 public:
  Forwarder(const Config& config, storage::Queue& queue, Uploader& uploader, Metrics& metrics,
            AgentState& state, platform::Clock& clock, platform::Random& random);

  // Returns when `stop` is set (after finishing the request in flight; see Uploader::Abort).
  void Run(const std::atomic<bool>& stop);
  // New records were queued: look now rather than at the next poll.
  void Wake();

 private:
  // One round: probe, or form or resume a batch, send it, act on the answer. Returns the time
  // to wait before the next round, in ms.
  int64_t Round();
  int64_t ProbeRound(int64_t now);
  void Apply(const storage::BatchPlan& plan, const Verdict& verdict, const std::string& why);
  void Failed(const Verdict& verdict, const std::string& why);
  void Reject(const storage::BatchPlan& plan, const std::string& reason);
  void Fail(const std::string& what, const platform::Status& st);
  void Housekeeping(int64_t now);
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
  std::string upstream_state_ = "idle";
  int64_t next_attempt_ms_ = 0;       // monotonic
  int64_t pending_since_ms_ = -1;     // monotonic time records were first seen waiting
  int64_t next_send_allowed_ms_ = 0;  // bandwidth cap
  int64_t next_housekeeping_ms_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
};

// The Idempotency-Key of a batch: "<gateway>.<epoch>.<first_seq>-<last_seq>".
std::string BatchKey(std::string_view gateway, std::string_view epoch, uint64_t first_seq,
                     uint64_t last_seq);

}  // namespace ferry::agent
