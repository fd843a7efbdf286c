#include "agent/agent.h"

#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "agent/forward/forwarder.h"
#include "agent/forward/uploader.h"
#include "agent/intake/intake.h"
#include "agent/intake/replay.h"
#include "agent/mqtt/mqtt_source.h"
#include "agent/normalize/normalizer.h"
#include "agent/status/status_render.h"
#include "agent/status/status_server.h"
#include "agent/transform/transform_set.h"
#include "platform/log.h"
#include "platform/notify.h"
#include "platform/process.h"
#include "platform/signals.h"

namespace ferry::agent {

namespace {

void ApplyLogSettings(const Config& config) {
  platform::SetLogLevel(config.log.level);
  platform::SetLogFormat(config.log.format);
}

}  // namespace

// The parts that run under one config: normalizer, intake, MQTT source, uploader, forwarder,
// and their two threads. Replaced as a whole on reload.
class Pipeline {
 public:
  Pipeline(std::shared_ptr<const Config> config, Normalizer normalizer, storage::Queue& queue,
           Metrics& metrics, AgentState& state, platform::Clock& clock,
           std::unique_ptr<Uploader> uploader, const std::vector<std::string>& acks,
           std::shared_ptr<SparkplugState> sparkplug)
      : config_(std::move(config)),
        normalizer_(std::move(normalizer)),
        transforms_(
            std::make_shared<TransformSet>(*config_, StateDirOf(config_->storage.path), clock)),
        intake_(*config_, normalizer_, queue, metrics, transforms_.get()),
        source_(*config_, intake_, metrics, state, clock, acks),
        uploader_(std::move(uploader)),
        forwarder_(*config_, queue, *uploader_, metrics, state, clock, random_) {
    normalizer_.set_sparkplug_state(std::move(sparkplug));
    state.SetTransforms(transforms_);
    intake_thread_ = std::thread([this] {
      transforms_->StartAll();  // on this thread: a child dies with the thread that started it
      source_.Run(stop_intake_);
    });
    forward_thread_ = std::thread([this] { forwarder_.Run(stop_forward_); });
  }

  // Intake first (what it read is committed and acknowledged), then the forwarder, whose
  // request in flight is broken off after `grace_ms` (its batch stays queued).
  void Stop(int64_t grace_ms) {
    stop_intake_ = true;
    intake_thread_.join();
    stop_forward_ = true;
    forwarder_.Wake();
    auto done = std::async(std::launch::async, [&] { forward_thread_.join(); });
    if (done.wait_for(std::chrono::milliseconds(grace_ms)) == std::future_status::timeout) {
      platform::LogWarn("agent", "request in flight past the grace period: breaking it off");
      uploader_->Abort();
    }
    done.wait();
  }

  const Config& config() const { return *config_; }
  const Normalizer& normalizer() const { return normalizer_; }
  const TransformSet& transforms() const { return *transforms_; }

 private:
  std::shared_ptr<const Config> config_;
  Normalizer normalizer_;
  std::shared_ptr<TransformSet> transforms_;  // shared with /status
  Intake intake_;
  MqttSource source_;
  std::unique_ptr<Uploader> uploader_;
  platform::OsRandom random_;
  Forwarder forwarder_;
  std::atomic<bool> stop_intake_{false}, stop_forward_{false};
  std::thread intake_thread_, forward_thread_;
};

Agent::Agent(const Config& config, std::string path, storage::Queue& queue, platform::Clock& clock)
    : initial_(config), path_(std::move(path)), queue_(queue), clock_(clock) {}

Agent::~Agent() { Stop(); }

platform::Status Agent::StartPipeline(std::shared_ptr<const Config> config) {
  auto uploader = CreateUploader(*config);
  if (!uploader.ok()) return uploader.status();
  platform::Result<Normalizer> normalizer = Normalizer::Create(config->routes);
  if (!normalizer.ok()) return normalizer.status();
  auto acks = queue_.RecentAcks(RedeliveryFilter::CapacityFor(config->storage.commit_max_records) *
                                RedeliveryFilter::kPackedSize);
  if (!acks.ok()) platform::LogWarn("agent", "reading recent acks: " + acks.status().ToString());
  ApplyLogSettings(*config);
  queue_.SetPolicy(config->storage.max_size,
                   config->storage.full_policy == FullPolicy::kDropOldest);
  platform::Status dl =
      queue_.SetDeadLetterPolicy(config->storage.dead_letters_max_size,
                                 config->storage.dead_letters_full_policy == FullPolicy::kBlock);
  if (!dl.ok()) platform::LogWarn("agent", "dead-letter bound: " + dl.ToString());
  if (!sparkplug_) {  // the first start: what earlier runs' BIRTH messages defined
    sparkplug_ = std::make_shared<SparkplugState>();
    auto rows = queue_.LoadSparkplugMetrics();
    if (rows.ok()) {
      sparkplug_->Load(*rows);
    } else {
      platform::LogWarn("agent", "reading sparkplug metrics: " + rows.status().ToString());
    }
  }
  pipeline_ = std::make_unique<Pipeline>(
      std::move(config), std::move(*normalizer), queue_, metrics_, state_, clock_,
      std::move(*uploader), acks.ok() ? *acks : std::vector<std::string>(), sparkplug_);
  return platform::Status::Ok();
}

platform::Status Agent::Reload() {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_ || !pipeline_) return platform::Status::Unavailable("stopping");
  platform::NotifyServiceManager("RELOADING=1");
  platform::Status st = ReloadLocked();
  state_.SetReload(st.ok() ? "ok" : st.message(), clock_.WallMillis());
  platform::NotifyServiceManager("READY=1");
  return st;
}

platform::Result<ReplayResult> Agent::Replay(std::span<const int64_t> ids) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_ || !pipeline_) return platform::Status::Unavailable("stopping");
  return ReplayDeadLetters(pipeline_->config(), pipeline_->normalizer(), queue_, metrics_, clock_,
                           ids, &pipeline_->transforms());
}

void Agent::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stopped_ = true;
  if (!pipeline_) return;
  pipeline_->Stop(pipeline_->config().upstream.shutdown_grace_ms);
  pipeline_.reset();
}

platform::Status Agent::ReloadLocked() {
  auto fresh = LoadConfig(path_);
  platform::Status st = fresh.ok() ? ResolveSecrets(&*fresh) : fresh.status();
  if (st.ok()) st = CreateUploader(*fresh).status();             // an upstream we can use
  if (st.ok()) st = Normalizer::Create(fresh->routes).status();  // routes that compile
  if (!st.ok()) {
    platform::LogError(
        "agent", "reload: " + path_ + " not applied, keeping the running config: " + st.message());
    return st;
  }
  for (const std::string& key : KeepRestartOnlySettings(initial_, &*fresh)) {
    platform::LogWarn("agent", "reload: " + key + " changed; it applies after a restart");
  }
  pipeline_->Stop(pipeline_->config().upstream.shutdown_grace_ms);
  pipeline_.reset();
  st = StartPipeline(std::make_shared<const Config>(std::move(*fresh)));
  if (st.ok()) platform::LogInfo("agent", "reload: applied " + path_);
  return st;
}

namespace {

// Waits for signals; keeps the service manager's watchdog fed while the loops are alive.
void MainLoop(Agent& agent) {
  int64_t ping_ms = platform::WatchdogPingIntervalMs();
  platform::Clock& clock = platform::SystemClock();
  int64_t next_ping = 0;
  for (;;) {
    platform::SignalEvent ev = platform::WaitForSignal(ping_ms > 0 ? 250 : 500);
    if (ev == platform::SignalEvent::kStop) return;
    if (ev == platform::SignalEvent::kReload) (void)agent.Reload();
    int64_t now = clock.MonotonicMillis();
    if (ping_ms > 0 && now >= next_ping) {
      bool alive = true;
      for (auto loop : {AgentState::Loop::kIntake, AgentState::Loop::kForwarder}) {
        alive = alive && now - agent.state().LastBeat(loop) < kLoopStallMs;
      }
      // A stalled loop stops the pings: the service manager restarts the agent.
      if (alive) platform::NotifyServiceManager("WATCHDOG=1");
      next_ping = now + ping_ms;
    }
  }
}

}  // namespace

std::vector<std::string> KeepRestartOnlySettings(const Config& old_config, Config* fresh) {
  std::vector<std::string> changed;
  auto keep = [&](const char* key, auto& now, const auto& before) {
    if (now != before) changed.push_back(key);
    now = before;
  };
  keep("/gateway/id", fresh->gateway.id, old_config.gateway.id);
  keep("/storage/path", fresh->storage.path, old_config.storage.path);
  keep("/storage/sync", fresh->storage.sync, old_config.storage.sync);
  keep("/storage/compression_level", fresh->storage.compression_level,
       old_config.storage.compression_level);
  keep("/status/listen", fresh->status.listen, old_config.status.listen);
  keep("/status/token", fresh->status.token, old_config.status.token);
  return changed;
}

int RunAgent(const Config& config, const std::string& config_path) {
  ApplyLogSettings(config);
  platform::Clock& clock = platform::SystemClock();
  platform::OsRandom random;
  storage::QueueOptions qopts;
  qopts.path = config.storage.path;
  qopts.max_bytes = config.storage.max_size;
  qopts.sync_full = config.storage.sync == SyncMode::kFull;
  qopts.compression_level = config.storage.compression_level;
  qopts.drop_oldest = config.storage.full_policy == FullPolicy::kDropOldest;
  qopts.boot_id = platform::BootId();
  auto queue = storage::Queue::Open(qopts, clock, random);
  if (!queue.ok()) {
    platform::LogError("agent", "cannot open the queue: " + queue.status().ToString());
    return 1;
  }
  Agent agent(config, config_path, **queue, clock);
  if (!(*queue)->Stats().quarantined.empty()) agent.metrics().queue_quarantined = 1;
  if ((*queue)->Stats().epoch_started_unclean) agent.metrics().queue_epochs_started = 1;
  agent.state().SetReload("ok", clock.WallMillis());
  platform::Status st = agent.StartPipeline(std::make_shared<const Config>(config));
  if (!st.ok()) {
    platform::LogError("agent", st.ToString());
    return 2;
  }
  StatusServer server(
      config, **queue, agent.metrics(), agent.state(), clock,
      [&](std::span<const int64_t> ids) { return agent.Replay(ids); },
      [&] { return agent.Reload(); });
  st = server.Start();
  if (!st.ok()) {
    platform::LogError("agent", st.ToString());
    agent.Stop();
    return 1;
  }
  platform::LogInfo("agent", VersionString() + " started: config " + config_path + ", gateway " +
                                 config.gateway.id + ", queue epoch " + (*queue)->epoch() +
                                 ", status on " + config.status.listen);
  platform::NotifyServiceManager("READY=1\nSTATUS=running");
  MainLoop(agent);
  platform::NotifyServiceManager("STOPPING=1");
  platform::LogInfo("agent", "stopping: the status server, then intake, then the forwarder");
  // The server first: a replay or reload it is answering finishes before the pipeline goes,
  // and none starts after (Agent answers "stopping" to any that still comes).
  server.Stop();
  agent.Stop();
  platform::LogInfo("agent", "stopped cleanly");
  return 0;
}

}  // namespace ferry::agent
