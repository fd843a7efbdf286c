#include "agent/transform/runner.h"

#include <algorithm>
#include <climits>

#include "agent/transform/protocol.h"
#include "platform/file.h"
#include "platform/log.h"
#include "platform/pipe_io.h"
#include "platform/poll.h"

namespace ferry::agent {

namespace {

constexpr size_t kReadChunk = 64 << 10;
// All replies of one batch together at most (besides max_output per line), so that a batch's
// records stay a bounded amount of memory.
constexpr uint64_t kBatchOutputBound = 32ull << 20;
constexpr int kLogLinesPerMinute = 10;

std::string Seconds(int64_t ms) {
  return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + "s";
}

}  // namespace

// The writing and reading of one batch. A failure ends it with `failure` set.
class TransformRunner::Exchange {
 public:
  Exchange(TransformRunner& runner, std::span<TransformItem> items, int64_t budget_ms)
      : budget_ms_(budget_ms),
        r_(runner),
        items_(items),
        first_id_(runner.next_id_),
        sent_ns_(items.size(), 0),
        answered_(items.size(), false) {
    r_.next_id_ += items.size();
  }

  // Returns "" when every request was answered, else the failure.
  std::string Go() {
    const TransformConfig& c = r_.config_;
    const int64_t start = r_.clock_.MonotonicMillis();
    const int64_t end = budget_ms_ > 0 ? start + budget_ms_ : INT64_MAX;
    int64_t deadline = std::min(start + c.timeout_ms, end);
    while (answered_count_ < items_.size()) {
      Encode();
      platform::PollItem fds[3];
      fds[0] = {r_.child_.stdin_fd, false, out_pos_ < out_.size()};
      fds[1] = {r_.child_.stdout_fd, true, false};
      fds[2] = {stderr_open_ ? r_.child_.stderr_fd : -1, true, false};
      int64_t now = r_.clock_.MonotonicMillis();
      int wait = static_cast<int>(std::clamp<int64_t>(deadline - now, 0, 1000));
      if (platform::Status st = platform::PollFds(fds, wait); !st.ok()) return st.message();
      if (fds[2].readable) ReadStderr();
      if (fds[0].writable || (fds[0].hangup && out_pos_ < out_.size())) {
        auto n = platform::WriteSome(r_.child_.stdin_fd, std::string_view(out_).substr(out_pos_));
        if (!n.ok()) return "stopped reading its stdin (" + n.status().message() + ")";
        out_pos_ += *n;
      }
      if (fds[1].readable) {
        size_t before = answered_count_;
        if (std::string e = ReadStdout(); !e.empty()) return e;
        if (answered_count_ > before) {
          deadline = std::min(r_.clock_.MonotonicMillis() + c.timeout_ms, end);
        }
      }
      if (r_.clock_.MonotonicMillis() >= deadline && answered_count_ < items_.size()) {
        if (deadline == end) {
          return "the batch of " + std::to_string(items_.size()) + " took longer than " +
                 FormatDuration(budget_ms_) + " (a quarter of mqtt.keepalive)";
        }
        return "no reply within " + FormatDuration(c.timeout_ms) + " (request id " +
               std::to_string(first_id_ + answered_count_) + " and " +
               std::to_string(items_.size() - answered_count_ - 1) + " more waiting)";
      }
    }
    return "";
  }

  bool answered(size_t i) const { return answered_[i]; }
  double latency_sum_s = 0;
  double latency_max_s = 0;
  uint64_t errors = 0;

 private:
  const int64_t budget_ms_;

  void Encode() {
    const TransformConfig& c = r_.config_;
    if (out_pos_ == out_.size()) out_.clear(), out_pos_ = 0;
    while (next_ < items_.size() && next_ - answered_count_ < c.max_in_flight &&
           out_.size() - out_pos_ < kReadChunk) {
      const TransformItem& item = items_[next_];
      AppendTransformRequest(
          {first_id_ + next_, item.topic, item.payload, item.received_ms, item.input}, out_);
      sent_ns_[next_] = r_.clock_.MonotonicNanos();
      ++next_;
    }
  }

  void ReadStderr() {
    std::string text;
    auto n = platform::ReadSome(r_.child_.stderr_fd, kReadChunk, &text);
    if (n.ok() && *n == 0) stderr_open_ = false;
    if (!n.ok() && n.status().code() != platform::Code::kUnavailable) stderr_open_ = false;
    if (!text.empty()) r_.LogStderr(text, r_.clock_.MonotonicMillis());
  }

  std::string ReadStdout() {
    auto n = platform::ReadSome(r_.child_.stdout_fd, kReadChunk, &in_);
    if (!n.ok() && n.status().code() == platform::Code::kUnavailable) return "";
    if (!n.ok()) return "reading its stdout: " + n.status().message();
    if (*n == 0) return "closed its stdout";
    total_ += *n;
    if (total_ > kBatchOutputBound) return "wrote more than 32MiB of replies for one batch";
    size_t start = 0;
    for (size_t nl = in_.find('\n'); nl != std::string::npos; nl = in_.find('\n', start)) {
      std::string_view line(in_.data() + start, nl - start);
      start = nl + 1;
      if (line.size() > r_.config_.max_output) return OverLong();
      if (line.empty() || line == "\r") continue;
      if (std::string e = Reply(line); !e.empty()) return e;
    }
    in_.erase(0, start);
    if (in_.size() > r_.config_.max_output) return OverLong();
    return "";
  }

  std::string OverLong() {
    return "wrote a reply line longer than max_output (" + FormatSize(r_.config_.max_output) + ")";
  }

  std::string Reply(std::string_view line) {
    uint64_t id = 0;
    nlohmann::json reply;
    std::string error;
    if (!ParseReplyLine(line, &id, &reply, &error)) return error;
    if (id < first_id_ || id >= first_id_ + next_ || answered_[id - first_id_]) {
      return "replied to id " + std::to_string(id) + ", which it was not asked (or answered)";
    }
    size_t i = id - first_id_;
    TransformItem& item = items_[i];
    const Normalized* defaults = item.input.empty() ? nullptr : &item.input[0];
    if (!RecordsOfReply(reply, defaults, item.received_ms, &item.records, &error)) {
      item.error = "transform " + r_.config_.name + ": " + error;
      ++errors;
    }
    answered_[i] = true;
    ++answered_count_;
    double s = (r_.clock_.MonotonicNanos() - sent_ns_[i]) / 1e9;
    latency_sum_s += s;
    latency_max_s = std::max(latency_max_s, s);
    return "";
  }

  TransformRunner& r_;
  std::span<TransformItem> items_;
  const uint64_t first_id_;
  std::vector<int64_t> sent_ns_;
  std::vector<bool> answered_;
  size_t next_ = 0;  // requests encoded so far
  size_t answered_count_ = 0;
  std::string out_;
  size_t out_pos_ = 0;
  std::string in_;
  uint64_t total_ = 0;
  bool stderr_open_ = true;
};

TransformRunner::TransformRunner(const TransformConfig& config, std::string private_dir,
                                 platform::Clock& clock, std::vector<std::string> hidden_paths)
    : config_(config),
      private_dir_(std::move(private_dir)),
      hidden_paths_(std::move(hidden_paths)),
      clock_(clock) {}

TransformRunner::~TransformRunner() {
  if (running_) platform::Kill(&child_);
}

bool TransformRunner::Start() {
  std::lock_guard<std::mutex> lock(run_mu_);
  std::string why;
  return EnsureStarted(clock_.MonotonicMillis(), &why);
}

void TransformRunner::Run(std::span<TransformItem> items, int64_t budget_ms) {
  if (items.empty()) return;
  std::lock_guard<std::mutex> lock(run_mu_);
  for (TransformItem& item : items) item.records.clear(), item.error.clear();
  std::string why;
  if (!EnsureStarted(clock_.MonotonicMillis(), &why)) {
    for (TransformItem& item : items) item.error = "transform " + config_.name + " " + why;
    std::lock_guard<std::mutex> s(stats_mu_);
    stats_.requests += items.size();
    stats_.failures += items.size();
    return;
  }
  Exchange exchange(*this, items, budget_ms);
  std::string failure = exchange.Go();
  uint64_t failed = 0;
  if (!failure.empty()) {
    failure = Fail(failure, clock_.MonotonicMillis());
    for (size_t i = 0; i < items.size(); ++i) {
      if (exchange.answered(i)) continue;
      items[i].records.clear();
      items[i].error = "transform " + config_.name + " failed: " + failure;
      ++failed;
    }
  } else {
    failures_in_a_row_ = 0;
  }
  std::lock_guard<std::mutex> s(stats_mu_);
  stats_.requests += items.size();
  stats_.failures += failed;
  stats_.errors += exchange.errors;
  stats_.latency_sum_s += exchange.latency_sum_s;
  stats_.latency_count += items.size() - failed;
  stats_.latency_max_s = exchange.latency_max_s;
}

bool TransformRunner::EnsureStarted(int64_t now_ms, std::string* why) {
  std::string how;
  if (running_ && platform::Reaped(&child_, &how)) {
    platform::Kill(&child_);  // closes the pipes
    running_ = false;
    Fail("ended between batches (" + how + ")", now_ms);
  }
  if (running_) return true;
  if (now_ms < next_start_ms_) {
    *why = "not running: restarting in " + Seconds(next_start_ms_ - now_ms) +
           " after: " + stats_.last_failure;
    return false;
  }
  platform::SpawnOptions options;
  options.argv = config_.command;
  options.isolation = config_.sandbox;
  options.limits.address_space_bytes = config_.memory;
  options.limits.cpu_seconds = static_cast<uint64_t>((config_.cpu_ms + 999) / 1000);
  options.limits.max_processes = config_.max_processes;
  options.limits.max_file_bytes = config_.max_file_size;
  options.private_dir = private_dir_;
  options.hidden_paths = hidden_paths_;
  if (platform::Status st = platform::MakeDirs(private_dir_); !st.ok()) {
    platform::LogWarn("transform", config_.name + ": " + st.ToString());
  }
  platform::Result<platform::ChildProcess> child = platform::Spawn(options);
  if (!child.ok()) {
    *why = "failed to start: " + child.status().message();
    platform::LogError("transform", config_.name + ": " + *why);
    Fail(*why, now_ms);
    std::lock_guard<std::mutex> s(stats_mu_);
    stats_.state = "failed_to_start";
    return false;
  }
  child_ = std::move(*child);
  running_ = true;
  stderr_buf_.clear();
  std::lock_guard<std::mutex> s(stats_mu_);
  if (stats_.starts > 0) ++stats_.restarts;
  ++stats_.starts;
  stats_.state = "running";
  stats_.isolation = child_.isolation;
  return true;
}

std::string TransformRunner::Fail(const std::string& why, int64_t now_ms) {
  std::string how;
  std::string what = why;
  if (running_) {
    // A process that closed its stdout is often on its way out: its exit status says why.
    for (int i = 0; i < 10; ++i) {
      if (platform::Reaped(&child_, &how)) {
        what += " (" + how + ")";
        break;
      }
      if (why.find("stdout") == std::string::npos) break;
      platform::SleepMillis(5);
    }
    platform::Kill(&child_);
    running_ = false;
  }
  ++failures_in_a_row_;
  int64_t wait = config_.restart_initial_ms;
  for (uint32_t i = 1; i < failures_in_a_row_ && wait < config_.restart_max_ms; ++i) wait *= 2;
  wait = std::min(wait, config_.restart_max_ms);
  platform::LogWarn("transform",
                    config_.name + " killed: " + what + "; restart in " + FormatDuration(wait));
  std::lock_guard<std::mutex> s(stats_mu_);
  next_start_ms_ = now_ms + wait;
  ++stats_.kills;
  stats_.state = "restarting";
  stats_.last_failure = what;
  return what;
}

void TransformRunner::LogStderr(std::string_view text, int64_t now_ms) {
  stderr_buf_.append(text);
  size_t start = 0;
  for (size_t nl = stderr_buf_.find('\n'); nl != std::string::npos;
       nl = stderr_buf_.find('\n', start)) {
    std::string_view line(stderr_buf_.data() + start, nl - start);
    start = nl + 1;
    if (now_ms - log_window_ms_ >= 60'000) log_window_ms_ = now_ms, log_lines_ = 0;
    if (log_lines_ < kLogLinesPerMinute) {
      platform::LogWarn("transform " + config_.name, line.substr(0, 1000));
    } else if (log_lines_ == kLogLinesPerMinute) {
      platform::LogWarn("transform " + config_.name, "more stderr lines this minute not logged");
    }
    ++log_lines_;
  }
  stderr_buf_.erase(0, start);
  if (stderr_buf_.size() > 4096) stderr_buf_.clear();
}

TransformStats TransformRunner::Stats() const {
  std::lock_guard<std::mutex> s(stats_mu_);
  TransformStats out = stats_;
  if (out.state == "restarting") {
    out.restart_in_ms = std::max<int64_t>(0, next_start_ms_ - clock_.MonotonicMillis());
  }
  return out;
}

}  // namespace ferry::agent
