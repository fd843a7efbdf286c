#include "agent/status/status_server.h"

#include <httplib.h>

#include <algorithm>

#include "agent/status/http_answer.h"
#include "agent/status/payload_view.h"
#include "agent/status/request_guard.h"
#include "agent/status/status_page.h"
#include "agent/status/status_render.h"
#include "platform/log.h"
#include "platform/process.h"

namespace ferry::agent {

using platform::Status;

namespace {

// One dead letter as GET /dead-letters shows it; bytes that are not UTF-8 also as payload_hex
// (the JSON text of `payload` replaces them).
nlohmann::json DeadLetterJson(const storage::DeadLetter& d) {
  nlohmann::json item = {{"id", d.id},
                         {"reason", d.reason},
                         {"topic", d.topic},
                         {"payload", d.payload},
                         {"received_at", platform::FormatRfc3339Millis(d.received_ms)},
                         {"dead_lettered_at", platform::FormatRfc3339Millis(d.created_ms)}};
  if (!IsUtf8Text(d.payload)) item["payload_hex"] = ToHex(d.payload);
  item["seq"] = d.seq ? nlohmann::json(*d.seq) : nlohmann::json();
  return item;
}

// GET /queue/peek's limit: a whole number from 1 to kMaxPeek; false for anything else.
constexpr int kDefaultPeek = 10, kMaxPeek = 1000;
bool ParsePeekLimit(const std::string& text, int* limit) {
  if (text.empty() || text.size() > 4) return false;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  *limit = std::atoi(text.c_str());
  return *limit >= 1 && *limit <= kMaxPeek;
}

}  // namespace

StatusServer::StatusServer(const Config& config, storage::Queue& queue, Metrics& metrics,
                           AgentState& state, platform::Clock& clock, ReplayFn replay,
                           ReloadFn reload)
    : config_(config),
      queue_(queue),
      metrics_(metrics),
      state_(state),
      clock_(clock),
      replay_(std::move(replay)),
      reload_(std::move(reload)),
      started_mono_ms_(clock.MonotonicMillis()),
      server_(std::make_unique<httplib::Server>()) {}

StatusServer::~StatusServer() { Stop(); }

bool StatusServer::Healthy(std::string* why) const {
  int64_t now = clock_.MonotonicMillis();
  for (auto loop : {AgentState::Loop::kIntake, AgentState::Loop::kForwarder}) {
    if (now - state_.LastBeat(loop) > kLoopStallMs) {
      *why = loop == AgentState::Loop::kIntake ? "intake loop stalled" : "forwarder loop stalled";
      return false;
    }
  }
  return true;
}

bool StatusServer::Ready(std::string* why) const {
  std::string queue = state_.QueueProblem(clock_.WallMillis());
  if (!queue.empty()) {  // first: a queue full because of it would hide the cause
    *why = std::move(queue);
    return false;
  }
  if (metrics_.mqtt_connected.load() != 1) {
    *why = "mqtt not connected: " + state_.Intake();
    return false;
  }
  std::string intake = state_.Intake();
  if (intake.rfind("paused", 0) == 0) {
    *why = "intake " + intake;
    return false;
  }
  return true;
}

void StatusServer::Routes() {
  ChangeRoutes();
  DeadLetterRoutes();
  QueueRoutes();
  server_->Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Frame-Options", "DENY");  // no framing by other sites (clickjacking)
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                   "connect-src 'self'; img-src data:; frame-ancestors 'none'");
    std::string_view page = StatusPageHtml();
    res.set_content(page.data(), page.size(), "text/html; charset=utf-8");
  });
  server_->Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    std::string why;
    bool ok = Healthy(&why);
    res.status = ok ? 200 : 503;
    res.set_content(ok ? "ok\n" : why + "\n", "text/plain");
  });
  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    std::string why;
    bool ok = Ready(&why);
    res.status = ok ? 200 : 503;
    res.set_content(ok ? "ready\n" : why + "\n", "text/plain");
  });
  server_->Get("/status", [this](const httplib::Request&, httplib::Response& res) {
    double uptime = static_cast<double>(clock_.MonotonicMillis() - started_mono_ms_) / 1000.0;
    StatusSnapshot s =
        TakeSnapshot(config_.gateway.id, queue_, state_, clock_.WallMillis(), uptime);
    res.set_content(
        RenderStatus(s, metrics_).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
            "\n",
        "application/json");
  });
  server_->Get("/status/history", [this](const httplib::Request&, httplib::Response& res) {
    JsonAnswer(res, 200, history_.Json());
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    double uptime = static_cast<double>(clock_.MonotonicMillis() - started_mono_ms_) / 1000.0;
    StatusSnapshot s =
        TakeSnapshot(config_.gateway.id, queue_, state_, clock_.WallMillis(), uptime);
    res.set_content(RenderMetrics(s, metrics_), "text/plain; version=0.0.4");
  });
}

void StatusServer::DeadLetterRoutes() {
  server_->Get("/dead-letters", [this](const httplib::Request& req, httplib::Response& res) {
    int64_t after = 0;
    int limit = 100;
    if (req.has_param("after")) after = std::atoll(req.get_param_value("after").c_str());
    if (req.has_param("limit"))
      limit = std::clamp(std::atoi(req.get_param_value("limit").c_str()), 1, 1000);
    auto list = queue_.ListDeadLetters(after, limit + 1);  // one more: is there a next page?
    if (!list.ok()) return JsonAnswer(res, 500, {{"error", list.status().ToString()}});
    bool more = list->size() > static_cast<size_t>(limit);
    if (more) list->pop_back();
    nlohmann::json items = nlohmann::json::array();
    for (const auto& d : *list) items.push_back(DeadLetterJson(d));
    JsonAnswer(res, 200,
               {{"items", items},
                {"next_after", list->empty() ? after : list->back().id},
                {"more", more},
                {"total", queue_.Stats().dead_letters}});
  });
  server_->Get(R"(/dead-letters/(\d{1,18}))",
               [this](const httplib::Request& req, httplib::Response& res) {
                 int64_t id = std::atoll(req.matches[1].str().c_str());
                 auto got = queue_.GetDeadLetters({&id, 1});
                 if (!got.ok()) return JsonAnswer(res, 500, {{"error", got.status().ToString()}});
                 if (got->empty()) return JsonAnswer(res, 404, {{"error", "no such dead letter"}});
                 JsonAnswer(res, 200, DeadLetterJson(got->front()));
               });
}

// GET /queue/peek?limit=N: the oldest queued records' lines as they will be sent.
void StatusServer::QueueRoutes() {
  server_->Get("/queue/peek", [this](const httplib::Request& req, httplib::Response& res) {
    int limit = kDefaultPeek;
    if (req.has_param("limit") && !ParsePeekLimit(req.get_param_value("limit"), &limit)) {
      return JsonAnswer(
          res, 400,
          {{"error", "limit must be a whole number from 1 to " + std::to_string(kMaxPeek) +
                         ", got '" + req.get_param_value("limit") + "'"}});
    }
    auto peek = queue_.Peek(static_cast<size_t>(limit));
    if (!peek.ok()) return JsonAnswer(res, 500, {{"error", peek.status().ToString()}});
    JsonAnswer(res, 200,
               {{"queued", peek->queued},
                {"shown", peek->lines.size()},
                {"more", peek->queued > peek->lines.size()},
                {"records", peek->lines}});
  });
}

bool StatusServer::MayChange(const httplib::Request& req, httplib::Response& res) const {
  ChangeRequest r;
  std::string authorization = req.get_header_value("Authorization");
  std::string origin = req.get_header_value("Origin");
  std::string site = req.get_header_value("Sec-Fetch-Site");
  std::string host = req.get_header_value("Host");
  std::string page = req.get_header_value(kPageHeader);
  r.authorization = authorization, r.origin = origin, r.sec_fetch_site = site, r.host = host;
  r.page_header = page;
  std::string why = RefuseChange(r, config_.status.listen, config_.status.token);
  if (why.empty()) return true;
  JsonAnswer(res, 403, {{"error", why}});
  return false;
}

// One sample now, then one every History::kSampleIntervalMs until Stop().
void StatusServer::SampleLoop() {
  std::unique_lock<std::mutex> lock(sampler_mu_);
  do {
    storage::QueueStats q = queue_.Stats();
    Sample s;
    s.wall_ms = clock_.WallMillis();
    s.received = metrics_.records_received.Total();
    s.delivered = metrics_.records_delivered.load();
    s.dead_lettered = metrics_.records_dead_lettered.Total();
    s.dropped = metrics_.records_dropped.Total() + q.dead_letters_dropped;
    s.queue_records = q.records;
    s.queue_bytes = q.stored_bytes;
    s.disk_bytes = q.disk_bytes;
    s.dead_letters = q.dead_letters;
    s.rss_bytes = platform::ReadProcessStats().rss_bytes;
    history_.Add(s);
  } while (!sampler_cv_.wait_for(lock, std::chrono::milliseconds(History::kSampleIntervalMs),
                                 [this] { return stopping_; }));
}

Status StatusServer::Start() {
  std::string host;
  int port = 0;
  if (!SplitHostPort(config_.status.listen, &host, &port)) {
    return Status::InvalidArgument("status.listen: expected HOST:PORT, got " +
                                   config_.status.listen);
  }
  Routes();
  server_->new_task_queue = [] { return new httplib::ThreadPool(2); };
  // One request per connection: a kept-alive connection holds one of the two threads until it
  // times out (5 s), so a browser tab polling the status page would keep /metrics scrapes and
  // `ferry status` waiting.
  server_->set_keep_alive_max_count(1);
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
  } else {
    port_ = server_->bind_to_port(host, port) ? port : -1;
  }
  if (port_ <= 0) {
    return Status::Unavailable("status.listen: cannot listen on " + config_.status.listen);
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  sampler_ = std::thread([this] { SampleLoop(); });
  return Status::Ok();
}

void StatusServer::Stop() {
  if (sampler_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(sampler_mu_);
      stopping_ = true;
    }
    sampler_cv_.notify_all();
    sampler_.join();
  }
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace ferry::agent
