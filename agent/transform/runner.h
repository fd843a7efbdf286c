// One transform's co-process: started on first use, fed a batch of requests, killed and
// restarted (with exponential backoff) when it fails. See docs/transforms.md for the protocol.
//
// Run() writes the batch's requests (at most max_in_flight unanswered at a time), reads the
// replies in any order, and returns when every request is answered or the transform failed.
// A failure is: no reply within `timeout` of the batch's start or the previous reply (or
// within the batch's budget), the
// process ending or closing stdout, a line that is not a JSON object with an id, a reply for an
// id not asked (or asked and already answered), a line longer than max_output. Then the process
// (and all it started) is killed, each request not yet answered gets the failure as its error,
// and the next start waits restart_initial * 2^(failures in a row - 1), up to restart_max;
// until then requests fail at once with "restarting". stderr lines are logged as the
// transform's, at most 10 a minute.
//
// Thread-safe: one Run at a time (a mutex); Stats() may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/normalize/normalizer.h"
#include "platform/clock.h"
#include "platform/subprocess.h"

namespace ferry::agent {

// One message of a batch: the input, and after Run either `records` or `error`.
struct TransformItem {
  std::string_view topic;
  std::string_view payload;
  int64_t received_ms = 0;
  std::vector<Normalized> input;    // the rules' records
  std::vector<Normalized> records;  // out: the transform's records (zero or more)
  std::string error;                // out: non-empty: dead-letter the message with this reason
};

struct TransformStats {
  std::string state = "idle";  // idle (not started), running, restarting, failed_to_start
  std::string isolation;       // as Spawn reported it, "" before the first start
  std::string last_failure;    // "" when none yet
  uint64_t starts = 0;
  uint64_t restarts = 0;     // starts after a failure
  uint64_t requests = 0;     // requests answered or failed
  uint64_t errors = 0;       // replies with "error"
  uint64_t failures = 0;     // requests failed by a kill (timeout, crash, garbage, ...)
  uint64_t kills = 0;        // times the process was killed for a failure
  double latency_sum_s = 0;  // seconds from a request's write to its reply, summed
  uint64_t latency_count = 0;
  double latency_max_s = 0;   // the longest of the last batch
  int64_t restart_in_ms = 0;  // while restarting: time left
};

class TransformRunner {
 public:
  // `private_dir`: the process's writable directory (created on start). `hidden_paths`: host
  // paths the sandbox must not show (the queue, files holding secrets).
  TransformRunner(const TransformConfig& config, std::string private_dir, platform::Clock& clock,
                  std::vector<std::string> hidden_paths = {});
  ~TransformRunner();  // kills the process
  TransformRunner(const TransformRunner&) = delete;
  TransformRunner& operator=(const TransformRunner&) = delete;

  const TransformConfig& config() const { return config_; }
  // Starts the process now if it is not running (and its restart is due); false if it could
  // not be started. The child dies with the thread that starts it (PR_SET_PDEATHSIG): the
  // intake thread starts every transform before it reads (TransformSet::StartAll).
  bool Start();
  // Fills each item's records or error; never fails as a whole. `budget_ms` (> 0) bounds the
  // whole batch besides the per-request timeout: past it the transform fails as if it timed out
  // (intake gives a group's transforms a quarter of mqtt.keepalive, which nothing may outlast).
  void Run(std::span<TransformItem> items, int64_t budget_ms = 0);
  TransformStats Stats() const;

 private:
  class Exchange;
  bool EnsureStarted(int64_t now_ms, std::string* why);
  // Kills the process and schedules its restart; returns `why` with how it ended.
  std::string Fail(const std::string& why, int64_t now_ms);
  void LogStderr(std::string_view text, int64_t now_ms);

  const TransformConfig config_;
  const std::string private_dir_;
  const std::vector<std::string> hidden_paths_;
  platform::Clock& clock_;
  std::mutex run_mu_;  // one Run at a time
  mutable std::mutex stats_mu_;
  TransformStats stats_;
  platform::ChildProcess child_;
  bool running_ = false;
  uint32_t failures_in_a_row_ = 0;
  int64_t next_start_ms_ = 0;
  uint64_t next_id_ = 1;
  std::string stderr_buf_;
  int64_t log_window_ms_ = 0;
  int log_lines_ = 0;
};

}  // namespace ferry::agent
