// The local HTTP status server (agent-contract.md, "Local HTTP status"): /healthz, /readyz,
// /status, /metrics, GET /dead-letters, POST /dead-letters/replay and POST /reload. Endpoints that
// change anything require `Authorization: Bearer <status.token>` when the server listens beyond
// loopback. Serves from its own small thread pool; reads the
// shared state only through thread-safe accessors.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>

#include "agent/config/config.h"
#include "agent/intake/replay.h"
#include "agent/status/agent_state.h"
#include "agent/status/metrics.h"
#include "platform/clock.h"
#include "platform/status.h"
#include "storage/queue.h"

namespace httplib {
class Server;
}

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
  bool Healthy(std::string* why) const;
  bool Ready(std::string* why) const;
  bool MayChange(const std::string& authorization, std::string* why) const;
  void ReplayRoute();

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
};

}  // namespace ferry::agent
