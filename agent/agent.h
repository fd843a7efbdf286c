// The running agent: opens the queue, runs the pipeline (intake and forwarder threads) and the
// status server, reloads the config on SIGHUP or POST /reload, and stops in order on SIGTERM.
// Only this file and main choose concrete implementations.
//
// Reload: the new file is read and validated first; an invalid one is logged, shown in /status
// and changes nothing. A valid one replaces the pipeline: intake stops after committing and
// acknowledging what it read, the forwarder finishes its request, and both start again under
// the new settings (the MQTT session resumes; the queue and its batches are kept, so nothing is
// lost or sent twice). Settings of the queue file and the status server need a restart:
// storage.path, storage.sync, storage.compression_level, status.listen, status.token and
// gateway.id keep their old values until then, with a warning.
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/intake/replay.h"
#include "agent/status/agent_state.h"
#include "agent/status/metrics.h"
#include "platform/clock.h"
#include "platform/status.h"
#include "storage/queue.h"

namespace ferry::agent {

class Pipeline;

// The agent around its pipeline: starts it, replaces it on reload, replays dead letters into
// it, stops it. Reload and Replay come from the status server's threads, Stop from the main
// thread; they serialize on one mutex. Once Stop() ran (or before the first StartPipeline),
// Reload and Replay answer kUnavailable ("stopping") and change nothing: the status server may
// still be answering a request while the agent shuts down.
class Agent {
 public:
  // `config` (the file's settings at start), `queue` and `clock` must outlive the agent.
  Agent(const Config& config, std::string path, storage::Queue& queue, platform::Clock& clock);
  ~Agent();

  // Starts the pipeline under `config`. kInvalidArgument when its upstream cannot be used.
  platform::Status StartPipeline(std::shared_ptr<const Config> config);
  // Re-reads the config file; keeps everything as it is when the file is not valid
  // (kInvalidArgument, kNotFound, kIoError). kUnavailable once stopping.
  platform::Status Reload();
  // Replays dead letters (see replay.h) under the running routes. kUnavailable once stopping.
  platform::Result<ReplayResult> Replay(std::span<const int64_t> ids);
  // Stops the pipeline (intake first, then the forwarder; see Pipeline). Safe to call twice.
  void Stop();

  Metrics& metrics() { return metrics_; }
  AgentState& state() { return state_; }

 private:
  platform::Status ReloadLocked();

  const Config& initial_;
  std::string path_;
  storage::Queue& queue_;
  platform::Clock& clock_;
  Metrics metrics_;
  AgentState state_;
  std::mutex mu_;
  std::unique_ptr<Pipeline> pipeline_;
  // Sparkplug BIRTH definitions, loaded from the queue at the first start; shared by every
  // pipeline (a reload keeps them).
  std::shared_ptr<SparkplugState> sparkplug_;
  bool stopped_ = false;
};

// Runs until SIGTERM or SIGINT. Returns the process exit code: 0 after a clean shutdown, 1 when
// the agent could not start (queue, status address), 2 for a config it cannot use. Call
// platform::BlockProcessSignals() first.
int RunAgent(const Config& config, const std::string& config_path);

// The restart-only settings of `old_config` copied into `fresh`; returns the keys that differed.
std::vector<std::string> KeepRestartOnlySettings(const Config& old_config, Config* fresh);

}  // namespace ferry::agent
