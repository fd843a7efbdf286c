#include "agent/forward/forwarder.h"

#include <algorithm>

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
  state_.SetUpstream(upstream_state_, next_wall);
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
  if (!plan.ok()) {
    Fail("reading the queue", plan.status());
    return kStorageErrorDelayMs;
  }
  if (!plan->has_value()) {
    if (queue_.Stats().records == 0) pending_since_ms_ = -1;
    if (breaker_.consecutive_failures() == 0) upstream_state_ = "idle";
    if (pending_since_ms_ < 0) return kIdlePollMs;
    return std::min(kIdlePollMs, pending_since_ms_ + config_.upstream.batch_linger_ms - now);
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
  if (now < next_send_allowed_ms_) return next_send_allowed_ms_ - now;  // bandwidth cap
  std::string key = BatchKey(config_.gateway.id, queue_.epoch(), p.first_seq, p.last_seq);
  upstream_state_ = breaker_.consecutive_failures() == 0 ? "sending" : upstream_state_;
  UploadResponse resp = uploader_.Send({key, batch_.records, batch_.compressed, &batch_.body});
  metrics_.upstream_requests.Add(resp.status ? std::to_string(resp.status) : "error");
  metrics_.upstream_bytes_sent += batch_.body.size();
  if (config_.upstream.max_bytes_per_second > 0) {
    int64_t cost_ms =
        static_cast<int64_t>(batch_.body.size() * 1000 / config_.upstream.max_bytes_per_second);
    next_send_allowed_ms_ = std::max(next_send_allowed_ms_, now) + cost_ms;
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
      upstream_state_ = "ok";
      return;
    }
    case VerdictKind::kRetry: {
      Status st = queue_.NoteAttempt(p.first_seq);
      if (!st.ok()) Fail("counting attempt", st);
      return Failed(verdict, why);
    }
    case VerdictKind::kAuthFailed:
      state_.SetLastError("upstream refused our credentials: " + why, clock_.WallMillis());
      upstream_state_ = "auth_failed";
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
  upstream_state_ = "backoff";
  if (breaker_.OnFailure(now)) {
    platform::LogWarn("forward", "circuit breaker open after " + std::to_string(attempt + 1) +
                                     " failures: probing every " +
                                     FormatDuration(config_.upstream.breaker_probe_ms));
  }
  if (breaker_.open()) {
    upstream_state_ = "unreachable";
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
  metrics_.records_dead_lettered.Add("rejected", count);
  platform::LogWarn("forward",
                    "record " + std::to_string(p.first_seq) + " moved to dead letters: " + reason);
}

void Forwarder::Fail(const std::string& what, const Status& st) {
  platform::LogError("forward", what + ": " + st.ToString());
  state_.SetLastError(what + ": " + st.ToString(), clock_.WallMillis());
  next_attempt_ms_ = clock_.MonotonicMillis() + kStorageErrorDelayMs;
}

}  // namespace ferry::agent
