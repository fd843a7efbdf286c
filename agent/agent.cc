#include "agent/agent.h"

#include <future>
#include <thread>

#include "agent/forward/forwarder.h"
#include "agent/forward/uploader.h"
#include "agent/intake/intake.h"
#include "agent/intake/replay.h"
#include "agent/mqtt/mqtt_source.h"
#include "agent/normalize/normalizer.h"
#include "agent/status/status_render.h"
#include "agent/status/status_server.h"
#include "platform/log.h"
#include "platform/process.h"
#include "platform/signals.h"

namespace ferry::agent {

namespace {

void ApplyLogSettings(const Config& config) {
  platform::LogLevel level = platform::LogLevel::kInfo;
  if (platform::ParseLogLevel(config.log.level, &level)) platform::SetLogLevel(level);
  platform::SetLogFormat(config.log.format == "json" ? platform::LogFormat::kJson
                                                     : platform::LogFormat::kText);
}

// Waits for the forwarder to finish its request; past the grace period, breaks it off.
void JoinForwarder(std::thread& thread, Uploader& uploader, int64_t grace_ms) {
  auto done = std::async(std::launch::async, [&] { thread.join(); });
  if (done.wait_for(std::chrono::milliseconds(grace_ms)) == std::future_status::timeout) {
    platform::LogWarn("agent", "request in flight past the grace period: breaking it off");
    uploader.Abort();
  }
  done.wait();
}

}  // namespace

int RunAgent(const Config& config, const std::string& config_path) {
  ApplyLogSettings(config);
  platform::Clock& clock = platform::SystemClock();
  platform::OsRandom random;
  storage::QueueOptions qopts{config.storage.path,
                              config.storage.max_size,
                              config.storage.sync == "full",
                              config.storage.compression_level,
                              config.storage.full_policy == "drop_oldest",
                              platform::BootId()};
  auto queue = storage::Queue::Open(qopts, clock, random);
  if (!queue.ok()) {
    platform::LogError("agent", "cannot open the queue: " + queue.status().ToString());
    return 1;
  }
  Metrics metrics;
  if (!(*queue)->Stats().quarantined.empty()) metrics.queue_quarantined = 1;
  AgentState state;
  auto uploader = Uploader::Create(config);
  if (!uploader.ok()) {
    platform::LogError("agent", uploader.status().ToString());
    return 2;
  }
  Normalizer normalizer(config.routes);
  Intake intake(config, normalizer, **queue, metrics);
  auto acks = (*queue)->RecentAcks(RedeliveryFilter::kCapacity * RedeliveryFilter::kPackedSize);
  if (!acks.ok()) platform::LogWarn("agent", "reading recent acks: " + acks.status().ToString());
  MqttSource source(config, intake, metrics, state, clock,
                    acks.ok() ? *acks : std::vector<std::string>());
  Forwarder forwarder(config, **queue, **uploader, metrics, state, clock, random);
  StatusServer server(config, **queue, metrics, state, clock,
                      [&](std::span<const int64_t> ids) {
                        return ReplayDeadLetters(config, normalizer, **queue, metrics, ids);
                      });
  platform::Status st = server.Start();
  if (!st.ok()) {
    platform::LogError("agent", st.ToString());
    return 1;
  }
  platform::LogInfo("agent", VersionString() + " started: config " + config_path + ", gateway " +
                                 config.gateway.id + ", queue epoch " + (*queue)->epoch() +
                                 ", status on " + config.status.listen);
  std::atomic<bool> stop_intake{false}, stop_forward{false};
  std::thread intake_thread([&] { source.Run(stop_intake); });
  std::thread forward_thread([&] { forwarder.Run(stop_forward); });
  for (;;) {
    platform::SignalEvent ev = platform::WaitForSignal(500);
    if (ev == platform::SignalEvent::kStop) break;
    if (ev == platform::SignalEvent::kReload) {
      platform::LogWarn("agent", "SIGHUP: live reload is not supported yet; restart to apply");
    }
  }
  platform::LogInfo("agent", "stopping: intake first, then the forwarder");
  stop_intake = true;
  intake_thread.join();
  stop_forward = true;
  forwarder.Wake();
  JoinForwarder(forward_thread, **uploader, config.upstream.shutdown_grace_ms);
  server.Stop();
  platform::LogInfo("agent", "stopped cleanly");
  return 0;
}

}  // namespace ferry::agent
