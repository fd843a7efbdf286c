#include "agent/forward/forwarder.h"

#include <algorithm>

#include "platform/log.h"

namespace ferry::agent {

using platform::Status;

namespace {
constexpr int64_t kIdlePollMs = 50;
constexpr int64_t kStorageErrorDelayMs = 1'000;
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
      backoff_{config.upstream.backoff_initial_ms, config.upstream.backoff_max_ms} {}

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
    state_.Beat(AgentState::Loop::kForwarder, clock_.MonotonicMillis());
    int64_t wait = Round(false);
    if (wait > 0) WaitFor(std::min<int64_t>(wait, 250), stop);
  }
}

int64_t Forwarder::Round(bool stopping) {
  int64_t now = clock_.MonotonicMillis();
  if (now < next_attempt_ms_) return next_attempt_ms_ - now;
  storage::BatchLimits limits{config_.upstream.batch_max_records, config_.upstream.batch_max_bytes,
                              false};
  if (pending_since_ms_ < 0) pending_since_ms_ = now;
  limits.allow_partial = stopping || now - pending_since_ms_ >= config_.upstream.batch_linger_ms;
  platform::Result<std::optional<storage::BatchPlan>> plan = queue_.NextBatch(limits);
  if (!plan.ok()) {
    Fail("reading the queue", plan.status());
    return kStorageErrorDelayMs;
  }
  if (!plan->has_value()) {
    if (queue_.Stats().records == 0) pending_since_ms_ = -1;
    if (failures_ == 0) state_.SetUpstream("idle");
    return pending_since_ms_ < 0 ? kIdlePollMs
                                 : std::min(kIdlePollMs, pending_since_ms_ +
                                                             config_.upstream.batch_linger_ms - now);
  }
  pending_since_ms_ = -1;
  const storage::BatchPlan& p = **plan;
  Status st = assembler_.Assemble(p, &batch_);
  if (!st.ok()) {
    Fail("assembling batch " + std::to_string(p.first_seq), st);
    return kStorageErrorDelayMs;
  }
  if (batch_.records == 0) {  // every record of the range left the queue already
    Status ack = queue_.Ack(p.first_seq, p.last_seq);
    if (!ack.ok()) Fail("removing empty batch", ack);
    return 0;
  }
  std::string key = BatchKey(config_.gateway.id, queue_.epoch(), p.first_seq, p.last_seq);
  UploadResponse resp = uploader_.Send({key, batch_.records, batch_.compressed, &batch_.body});
  metrics_.upstream_requests.Add(resp.status ? std::to_string(resp.status) : "error");
  metrics_.upstream_bytes_sent += batch_.body.size();
  Verdict verdict = ClassifyResponse(resp.status, resp.retry_after, clock_.WallMillis());
  if (verdict.kind != VerdictKind::kDelivered) {
    std::string why = resp.status ? "HTTP " + std::to_string(resp.status) + ": " + resp.body
                                  : "no response: " + resp.error;
    platform::LogWarn("forward", "batch " + key + " " + VerdictName(verdict.kind) + ": " + why);
  }
  Apply(p, batch_, resp, verdict);
  return 0;
}

void Forwarder::Apply(const storage::BatchPlan& p, const storage::AssembledBatch& batch,
                      const UploadResponse& resp, const Verdict& verdict) {
  std::string why = resp.status ? "HTTP " + std::to_string(resp.status) + ": " + resp.body
                                : "no response: " + resp.error;
  switch (verdict.kind) {
    case VerdictKind::kDelivered: {
      Status st = queue_.Ack(p.first_seq, p.last_seq);
      if (!st.ok()) return Fail("acknowledging delivered batch", st);
      metrics_.records_delivered += batch.records;
      ++metrics_.batches_delivered;
      failures_ = 0;
      state_.SetUpstream("ok");
      return;
    }
    case VerdictKind::kRetry: {
      Status st = queue_.NoteAttempt(p.first_seq);
      if (!st.ok()) Fail("counting attempt", st);
      state_.SetLastError("upstream: " + why, clock_.WallMillis());
      int64_t delay = verdict.retry_after_ms >= 0
                          ? std::min(verdict.retry_after_ms, kMaxRetryAfterMs)
                          : BackoffDelayMs(backoff_, failures_, random_);
      ++failures_;
      return RetryLater(delay, "backoff");
    }
    case VerdictKind::kAuthFailed:
      state_.SetLastError("upstream refused our credentials: " + why, clock_.WallMillis());
      ++failures_;
      return RetryLater(backoff_.max_ms, "auth_failed");
    case VerdictKind::kSplit:
      if (batch.records > 1 && p.first_seq < p.last_seq) {
        Status st = queue_.SplitBatch(p.first_seq, p.last_seq);
        if (!st.ok()) Fail("splitting batch", st);
        return;
      }
      return Reject(p, batch.records, "refused by landing zone (too large alone): " + why);
    case VerdictKind::kReject:
      return Reject(p, batch.records, "refused by landing zone: " + why);
  }
}

// Bisects a refused batch; a refused batch of one record goes to the dead letters.
void Forwarder::Reject(const storage::BatchPlan& p, uint32_t records, const std::string& reason) {
  state_.SetLastError(reason, clock_.WallMillis());
  if (records > 1 && p.first_seq < p.last_seq) {
    Status st = queue_.SplitBatch(p.first_seq, p.last_seq);
    if (!st.ok()) Fail("bisecting refused batch", st);
    return;
  }
  std::string lines;
  uint32_t count = 0;
  Status st = assembler_.Lines(p, &lines, &count);
  if (st.ok()) st = queue_.DeadLetterBatch(p.first_seq, p.last_seq, reason, lines);
  if (!st.ok()) return Fail("dead-lettering refused record", st);
  metrics_.records_dead_lettered.Add("rejected", count);
  platform::LogWarn("forward", "record " + std::to_string(p.first_seq) +
                                   " moved to dead letters: " + reason);
}

void Forwarder::RetryLater(int64_t delay_ms, const std::string& state) {
  next_attempt_ms_ = clock_.MonotonicMillis() + delay_ms;
  state_.SetUpstream(state, clock_.WallMillis() + delay_ms);
}

void Forwarder::Fail(const std::string& what, const Status& st) {
  platform::LogError("forward", what + ": " + st.ToString());
  state_.SetLastError(what + ": " + st.ToString(), clock_.WallMillis());
  next_attempt_ms_ = clock_.MonotonicMillis() + kStorageErrorDelayMs;
}

}  // namespace ferry::agent
