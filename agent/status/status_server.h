// The local HTTP status server (agent-contract.md, "Local HTTP status"): the status page at
// GET / (status_page.h), /healthz, /readyz, /status, /status/history, /metrics,
// GET /dead-letters[/ID], GET /queue/peek?limit=N (the oldest queued records, limit 1 to 1000,
// default 10; 400 for another limit), and the endpoints that change something: POST
// /dead-letters/replay, POST /dead-letters/purge, POST /reload and POST /log-level. Those require
// `Authorization: Bearer <status.token>` when the server listens beyond loopback, and refuse
// cross-site requests from browsers (request_guard.h). Serves from its own small thread pool;
// reads the shared state only through thread-safe accessors. A sampler thread adds a sample
// to the history ring every History::kSampleIntervalMs.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>

#include "agent/config/config.h"
#include "agent/intake/replay.h"
#include "agent/status/agent_state.h"
#include "agent/status/history.h"
#include "agent/status/metrics.h"
#include "platform/clock.h"
#include "platform/status.h"
#include "storage/queue.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace ferry::agent {

// A loop that has not reported for this long makes /healthz answer 503.
inline constexpr int64_t kLoopStallMs = 60'000;

// Replays dead letters (all when `ids` is empty); see agent/intake/replay.h.
using ReplayFn = std::function<platform::Result<ReplayResult>(std::span<const int64_t> ids)>;

// Re-reads the config file (POST /reload); see agent/agent.h.
using ReloadFn = std::function<platform::Status()>;

class StatusServer {
 public:
  StatusServer(const Config& config, storage::Queue& queue, Metrics& metrics, AgentState& state,
               platform::Clock& clock, ReplayFn replay, ReloadFn reload);
  ~StatusServer();

  // Binds status.listen and starts serving. kInvalidArgument for a malformed address,
  // kUnavailable when the address cannot be bound.
  platform::Status Start();
  void Stop();
  int port() const { return port_; }

 private:
  void Routes();
  void DeadLetterRoutes();
  void QueueRoutes();   // GET /queue/peek
  void ChangeRoutes();  // status_changes.cc
  bool Healthy(std::string* why) const;
  bool Ready(std::string* why) const;
  // False, after answering 403 with why, when `req` may not change anything.
  bool MayChange(const httplib::Request& req, httplib::Response& res) const;
  void SampleLoop();

  const Config& config_;
  storage::Queue& queue_;
  Metrics& metrics_;
  AgentState& state_;
  platform::Clock& clock_;
  ReplayFn replay_;
  ReloadFn reload_;
  int64_t started_mono_ms_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  History history_;
  std::mutex sampler_mu_;
  std::condition_variable sampler_cv_;
  bool stopping_ = false;
  std::thread sampler_;
};

}  // namespace ferry::agent
