#include "agent/forward/forwarder.h"

#include <algorithm>

#include "agent/record/dead_letter_reason.h"
#include "platform/log.h"

namespace ferry::agent {

using platform::Status;

namespace {
constexpr int64_t kIdlePollMs = 50;
constexpr int64_t kStorageErrorDelayMs = 1'000;
constexpr int64_t kHousekeepingMs = 10'000;
// A landing zone may ask for a long pause, but not for longer than this.
constexpr int64_t kMaxRetryAfterMs = 15 * 60 * 1000;
}  // namespace

std::string BatchKey(std::string_view gateway, std::string_view epoch, uint64_t first_seq,
                     uint64_t last_seq) {
  std::string key;
  key.reserve(gateway.size() + epoch.size() + 44);
  key.append(gateway).append(".").append(epoch).append(".");
  key.append(std::to_string(first_seq)).append("-").append(std::to_string(last_seq));
  return key;
}

const char* UpstreamStateName(UpstreamState state) {
  switch (state) {
    case UpstreamState::kIdle:
      return "idle";
    case UpstreamState::kSending:
      return "sending";
    case UpstreamState::kOk:
      return "ok";
    case UpstreamState::kBackoff:
      return "backoff";
    case UpstreamState::kUnreachable:
      return "unreachable";
    case UpstreamState::kAuthFailed:
      return "auth_failed";
    case UpstreamState::kStorageError:
      return "storage_error";
  }
  return "idle";
}

int64_t SendCostMs(uint64_t bytes, uint64_t bytes_per_second) {
  if (bytes_per_second == 0) return 0;
  // bytes * 1000 fits 64 bits for any body under 18 PB.
  return static_cast<int64_t>(bytes * uint64_t{1000} / bytes_per_second);
}

Forwarder::Forwarder(const Config& config, storage::Queue& queue, Uploader& uploader,
                     Metrics& metrics, AgentState& state, platform::Clock& clock,
                     platform::Random& random)
    : config_(config),
      queue_(queue),
      uploader_(uploader),
      metrics_(metrics),
      state_(state),
      clock_(clock),
      random_(random),
      assembler_(config.upstream.compression_level),
      backoff_{config.upstream.backoff_initial_ms, config.upstream.backoff_max_ms},
      breaker_(config.upstream.breaker_failures, config.upstream.breaker_probe_ms) {}

void Forwarder::Wake() {
  std::lock_guard<std::mutex> lock(mu_);
  woken_ = true;
  cv_.notify_one();
}

void Forwarder::WaitFor(int64_t ms, const std::atomic<bool>& stop) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(ms, 1)),
               [&] { return woken_ || stop.load(); });
  woken_ = false;
}

void Forwarder::Run(const std::atomic<bool>& stop) {
  while (!stop) {
    int64_t now = clock_.MonotonicMillis();
    state_.Beat(AgentState::Loop::kForwarder, now);
    Housekeeping(now);
    int64_t wait = Round();
    Publish();
    if (wait > 0) WaitFor(std::min<int64_t>(wait, 250), stop);
  }
}

// Tells /status what the forwarder is doing and when it tries next.
void Forwarder::Publish() {
  int64_t now = clock_.MonotonicMillis();
  int64_t next = breaker_.open() ? breaker_.next_probe_ms() : next_attempt_ms_;
  int64_t next_wall = next > now ? clock_.WallMillis() + (next - now) : 0;
  state_.SetUpstream(UpstreamStateName(upstream_state_), next_wall);
  state_.SetBreaker(BreakerStateName(breaker_.state()), breaker_.consecutive_failures());
}

void Forwarder::Housekeeping(int64_t now) {
  if (now < next_housekeeping_ms_) return;
  next_housekeeping_ms_ = now + kHousekeepingMs;
  if (config_.storage.max_age_ms > 0) {
    platform::Result<uint64_t> expired = queue_.Expire(config_.storage.max_age_ms);
    if (!expired.ok()) {
      Fail("expiring old records", expired.status());
    } else if (*expired > 0) {
      metrics_.records_dropped.Add("expired", *expired);
      platform::LogWarn(
          "queue", "dropped " + std::to_string(*expired) + " records older than storage.max_age");
    }
  }
  Status st = queue_.GiveBackSpace();
  if (!st.ok()) platform::LogWarn("queue", "giving space back: " + st.ToString());
}

// While the breaker is open: one small request instead of a batch.
int64_t Forwarder::ProbeRound(int64_t now) {
  if (now < breaker_.next_probe_ms()) return breaker_.next_probe_ms() - now;
  int status = uploader_.Probe();
  bool answered = status > 0 && status < 500 && status != 429;
  metrics_.upstream_probes.Add(status ? std::to_string(status) : "error");
  breaker_.OnProbe(answered, clock_.MonotonicMillis());
  if (answered) {
    platform::LogInfo("forward",
                      "landing zone reachable again (any HTTP answer to the probe "
                      "means it is up; this one was " +
                          std::to_string(status) + "): resuming delivery");
    next_attempt_ms_ = 0;
    return 0;
  }
  return breaker_.next_probe_ms() - clock_.MonotonicMillis();
}

int64_t Forwarder::Round() {
  int64_t now = clock_.MonotonicMillis();
  if (breaker_.open()) return ProbeRound(now);
  if (now < next_attempt_ms_) return next_attempt_ms_ - now;
  storage::BatchLimits limits{config_.upstream.batch_max_records, config_.upstream.batch_max_bytes,
                              false};
  if (pending_since_ms_ < 0) pending_since_ms_ = now;
  limits.allow_partial = now - pending_since_ms_ >= config_.upstream.batch_linger_ms;
  platform::Result<std::optional<storage::BatchPlan>> plan = queue_.NextBatch(limits);
  if (!plan.ok()) return QueueUnreadable("reading the queue", plan.status());
  if (!plan->has_value()) {
    QueueReadable();
    if (queue_.Stats().records == 0) pending_since_ms_ = -1;
    if (breaker_.consecutive_failures() == 0) upstream_state_ = UpstreamState::kIdle;
    if (pending_since_ms_ < 0) return kIdlePollMs;
    return std::min(kIdlePollMs, pending_since_ms_ + config_.upstream.batch_linger_ms - now);
  }
  pending_since_ms_ = -1;
  const storage::BatchPlan& p = **plan;
  Status st = assembler_.Assemble(p, &batch_);
  if (!st.ok()) return Unreadable(p, st);
  QueueReadable();
  if (bad_batch_first_ == p.first_seq) bad_batch_tries_ = 0;
  if (batch_.records == 0) {  // every record of the range left the queue already
    Status ack = queue_.Ack(p.first_seq, p.last_seq);
    if (!ack.ok()) Fail("removing empty batch", ack);
    return 0;
  }
  if (now < next_send_allowed_ms_) return next_send_allowed_ms_ - now;  // bandwidth cap
  return SendRound(p, now);
}

// The first block of `p` that does not assemble on its own, as a range inside the batch; the
// whole batch when none fails alone.
std::pair<uint64_t, uint64_t> Forwarder::FirstBadBlock(const storage::BatchPlan& p) {
  storage::AssembledBatch scratch;
  for (const storage::BatchPlan::Block& block : p.blocks) {
    storage::BatchPlan one;
    one.first_seq = std::max(block.first_seq, p.first_seq);
    one.last_seq = std::min(block.last_seq, p.last_seq);
    one.blocks.push_back(block);
    for (uint64_t seq : p.removed) {
      if (seq >= one.first_seq && seq <= one.last_seq) one.removed.push_back(seq);
    }
    if (!assembler_.Assemble(one, &scratch).ok()) return {one.first_seq, one.last_seq};
  }
  return {p.first_seq, p.last_seq};
}

// A batch whose blocks do not read: retried a few times (a read error may pass); then the
// first bad block is parted from the readable ones around it, and leaves the way to the
// landing zone for the dead letters, its raw bytes and the reason kept.
int64_t Forwarder::Unreadable(const storage::BatchPlan& p, const Status& st) {
  std::string what =
      "assembling batch " + std::to_string(p.first_seq) + "-" + std::to_string(p.last_seq);
  if (bad_batch_first_ != p.first_seq) bad_batch_tries_ = 0;
  bad_batch_first_ = p.first_seq;
  if (++bad_batch_tries_ < kBadBatchTries) {
    Fail(what, st);
    return kStorageErrorDelayMs;
  }
  auto [bad_first, bad_last] = FirstBadBlock(p);
  if (bad_first > p.first_seq || bad_last < p.last_seq) {
    uint64_t at = bad_first > p.first_seq ? bad_first : bad_last + 1;
    Status split = queue_.SplitBatchAt(p.first_seq, p.last_seq, at);
    if (!split.ok()) return QueueUnreadable(what + ": parting its unreadable block", split);
    bad_batch_first_ = bad_first;  // tried enough: it goes once it is a batch of its own
    bad_batch_tries_ = kBadBatchTries - 1;
    return 0;
  }
  std::string reason = "unreadable stored block: " + st.ToString();
  platform::Result<uint64_t> moved =
      queue_.DeadLetterUnreadableBatch(p.first_seq, p.last_seq, reason);
  if (!moved.ok()) {
    return QueueUnreadable(what + ": moving its blocks to the dead letters", moved.status());
  }
  bad_batch_tries_ = 0;
  QueueReadable();
  metrics_.records_dead_lettered.Add(DeadLetterLabel(DeadLetterCode::kUnreadableBlock), *moved);
  state_.SetLastError(what + ": " + reason, clock_.WallMillis());
  platform::LogError("forward", what + " failed " + std::to_string(kBadBatchTries) +
                                    " times: its block (" + std::to_string(*moved) +
                                    " records) moved to the dead letters as stored: " + reason);
  return 0;
}

// The queue cannot be read, or a block cannot be set aside: nothing to send until it can.
// Waits longer each time (QueueReadBackoff) and says why in /readyz and /status.
int64_t Forwarder::QueueUnreadable(const std::string& what, const Status& st) {
  int64_t now = clock_.MonotonicMillis();
  std::string error = what + ": " + st.ToString();
  bool log = false;
  int64_t delay = queue_read_.OnFailure(error, now, &log);
  if (log) {
    platform::LogError("forward", error + "; delivery paused, retrying in " +
                                      FormatDuration(delay) + " (the wait doubles up to " +
                                      FormatDuration(QueueReadBackoff::kMaxDelayMs) + ")");
    state_.SetLastError(error, clock_.WallMillis());
  }
  state_.SetQueueUnreadable(error, clock_.WallMillis() + delay);
  upstream_state_ = UpstreamState::kStorageError;
  next_attempt_ms_ = now + delay;
  return delay;
}

// A round read the queue: ends a QueueUnreadable spell.
void Forwarder::QueueReadable() {
  if (!queue_read_.OnSuccess()) return;
  platform::LogInfo("forward", "the queue can be read again: delivery resumes");
  state_.SetQueueUnreadable("", 0);
  upstream_state_ =
      breaker_.consecutive_failures() > 0 ? UpstreamState::kBackoff : UpstreamState::kIdle;
}

// Sends the assembled batch and acts on the answer.
int64_t Forwarder::SendRound(const storage::BatchPlan& p, int64_t now) {
  std::string key = BatchKey(config_.gateway.id, p.epoch, p.first_seq, p.last_seq);
  if (breaker_.consecutive_failures() == 0) upstream_state_ = UpstreamState::kSending;
  UploadResponse resp = uploader_.Send({key, batch_.records, batch_.compressed, &batch_.body});
  metrics_.upstream_requests.Add(resp.status ? std::to_string(resp.status) : "error");
  metrics_.upstream_bytes_sent += batch_.body.size();
  if (config_.upstream.max_bytes_per_second > 0) {
    next_send_allowed_ms_ = std::max(next_send_allowed_ms_, now) +
                            SendCostMs(batch_.body.size(), config_.upstream.max_bytes_per_second);
  }
  Verdict verdict = ClassifyResponse(resp.status, resp.retry_after, clock_.WallMillis(), resp.body);
  std::string why = resp.status ? "HTTP " + std::to_string(resp.status) + ": " + resp.body
                                : "no response: " + resp.error;
  if (verdict.kind != VerdictKind::kDelivered) {
    platform::LogWarn("forward", "batch " + key + " " + VerdictName(verdict.kind) + ": " + why);
  }
  Apply(p, verdict, why);
  return 0;
}

void Forwarder::Apply(const storage::BatchPlan& p, const Verdict& verdict, const std::string& why) {
  switch (verdict.kind) {
    case VerdictKind::kDelivered: {
      Status st = queue_.Ack(p.first_seq, p.last_seq);
      if (!st.ok()) return Fail("acknowledging delivered batch", st);
      metrics_.records_delivered += batch_.records;
      ++metrics_.batches_delivered;
      breaker_.OnSuccess();
      upstream_state_ = UpstreamState::kOk;
      return;
    }
    case VerdictKind::kRetry: {
      Status st = queue_.NoteAttempt(p.first_seq);
      if (!st.ok()) Fail("counting attempt", st);
      return Failed(verdict, why);
    }
    case VerdictKind::kAuthFailed:
      state_.SetLastError("upstream refused our credentials: " + why, clock_.WallMillis());
      upstream_state_ = UpstreamState::kAuthFailed;
      next_attempt_ms_ = clock_.MonotonicMillis() + backoff_.max_ms;
      return;
    case VerdictKind::kSplit:
      breaker_.OnSuccess();  // the landing zone is up; the batch is just too big
      if (batch_.records > 1 && p.first_seq < p.last_seq) {
        Status st = queue_.SplitBatch(p.first_seq, p.last_seq);
        if (!st.ok()) Fail("splitting batch", st);
        return;
      }
      return Reject(p, "refused by landing zone (too large alone): " + why);
    case VerdictKind::kReject:
      breaker_.OnSuccess();
      return Reject(p, "refused by landing zone: " + why);
  }
}

// A retryable failure: back off (or wait as Retry-After says), and maybe open the breaker.
void Forwarder::Failed(const Verdict& verdict, const std::string& why) {
  int64_t now = clock_.MonotonicMillis();
  state_.SetLastError("upstream: " + why, clock_.WallMillis());
  uint32_t attempt = breaker_.consecutive_failures();
  int64_t delay = verdict.retry_after_ms >= 0 ? std::min(verdict.retry_after_ms, kMaxRetryAfterMs)
                                              : BackoffDelayMs(backoff_, attempt, random_);
  next_attempt_ms_ = now + delay;
  upstream_state_ = UpstreamState::kBackoff;
  if (breaker_.OnFailure(now)) {
    platform::LogWarn("forward", "circuit breaker open after " + std::to_string(attempt + 1) +
                                     " failures: probing every " +
                                     FormatDuration(config_.upstream.breaker_probe_ms));
  }
  if (breaker_.open()) {
    upstream_state_ = UpstreamState::kUnreachable;
    if (verdict.retry_after_ms >= 0) breaker_.DelayProbe(next_attempt_ms_);
  }
}

// Bisects a refused batch; a refused batch of one record goes to the dead letters.
void Forwarder::Reject(const storage::BatchPlan& p, const std::string& reason) {
  state_.SetLastError(reason, clock_.WallMillis());
  if (batch_.records > 1 && p.first_seq < p.last_seq) {
    Status st = queue_.SplitBatch(p.first_seq, p.last_seq);
    if (!st.ok()) Fail("bisecting refused batch", st);
    return;
  }
  std::string lines;
  uint32_t count = 0;
  Status st = assembler_.Lines(p, &lines, &count);
  if (st.ok()) st = queue_.DeadLetterBatch(p.first_seq, p.last_seq, reason, lines);
  if (!st.ok()) return Fail("dead-lettering refused record", st);
  metrics_.records_dead_lettered.Add(DeadLetterLabel(DeadLetterCode::kRejected), count);
  platform::LogWarn("forward",
                    "record " + std::to_string(p.first_seq) + " moved to dead letters: " + reason);
}

void Forwarder::Fail(const std::string& what, const Status& st) {
  platform::LogError("forward", what + ": " + st.ToString());
  state_.SetLastError(what + ": " + st.ToString(), clock_.WallMillis());
  next_attempt_ms_ = clock_.MonotonicMillis() + kStorageErrorDelayMs;
}

}  // namespace ferry::agent
