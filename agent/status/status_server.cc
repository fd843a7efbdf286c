#include "agent/status/status_server.h"

#include <httplib.h>

#include "agent/status/status_render.h"
#include "platform/log.h"

namespace ferry::agent {

using platform::Status;

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

bool StatusServer::MayChange(const std::string& authorization, std::string* why) const {
  std::string host;
  int port = 0;
  SplitHostPort(config_.status.listen, &host, &port);
  bool loopback = host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
  if (loopback) return true;
  if (config_.status.token.empty()) {
    *why = "the status server listens beyond loopback: set status.token to allow changes";
    return false;
  }
  std::string expect = "Bearer " + config_.status.token;
  // Constant-time comparison: the token is a secret.
  unsigned diff = authorization.size() != expect.size();
  for (size_t i = 0; i < std::min(authorization.size(), expect.size()); ++i) {
    diff |= static_cast<unsigned char>(authorization[i] ^ expect[i]);
  }
  if (diff != 0) *why = "missing or wrong bearer token (status.token)";
  return diff == 0;
}

void StatusServer::ReplayRoute() {
  server_->Post(
      "/dead-letters/replay", [this](const httplib::Request& req, httplib::Response& res) {
        std::string why;
        if (!MayChange(req.get_header_value("Authorization"), &why)) {
          res.status = 403;
          res.set_content(nlohmann::json({{"error", why}}).dump() + "\n", "application/json");
          return;
        }
        std::vector<int64_t> ids;
        auto body = nlohmann::json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
        if (body.is_object() && body.contains("ids") && body["ids"].is_array()) {
          for (const auto& id : body["ids"]) {
            if (id.is_number_integer()) ids.push_back(id.get<int64_t>());
          }
        }
        bool all = body.is_object() && body.value("all", false);
        if (!body.is_object() || (ids.empty() && !all)) {
          res.status = 400;
          res.set_content(R"({"error":"send {\"ids\":[1,2]} or {\"all\":true}"})"
                          "\n",
                          "application/json");
          return;
        }
        auto result = replay_(ids);
        if (!result.ok()) {
          res.status = result.status().code() == platform::Code::kNoSpace ? 507 : 500;
          res.set_content(nlohmann::json({{"error", result.status().ToString()}}).dump() + "\n",
                          "application/json");
          return;
        }
        nlohmann::json out = {{"replayed", result->replayed},
                              {"records", result->records},
                              {"dead_again", result->dead_again},
                              {"ignored", result->ignored}};
        res.set_content(out.dump() + "\n", "application/json");
      });
}

void StatusServer::Routes() {
  ReplayRoute();
  server_->Post("/reload", [this](const httplib::Request& req, httplib::Response& res) {
    std::string why;
    if (!MayChange(req.get_header_value("Authorization"), &why)) {
      res.status = 403;
      res.set_content(nlohmann::json({{"error", why}}).dump() + "\n", "application/json");
      return;
    }
    platform::Status st = reload_();
    res.status = st.ok() ? 200 : (st.code() == platform::Code::kInvalidArgument ? 400 : 500);
    nlohmann::json out = st.ok() ? nlohmann::json{{"reloaded", true}}
                                 : nlohmann::json{{"reloaded", false}, {"error", st.message()}};
    res.set_content(out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                    "application/json");
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
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    double uptime = static_cast<double>(clock_.MonotonicMillis() - started_mono_ms_) / 1000.0;
    StatusSnapshot s =
        TakeSnapshot(config_.gateway.id, queue_, state_, clock_.WallMillis(), uptime);
    res.set_content(RenderMetrics(s, metrics_), "text/plain; version=0.0.4");
  });
  server_->Get("/dead-letters", [this](const httplib::Request& req, httplib::Response& res) {
    int64_t after = 0;
    int limit = 100;
    if (req.has_param("after")) after = std::atoll(req.get_param_value("after").c_str());
    if (req.has_param("limit"))
      limit = std::clamp(std::atoi(req.get_param_value("limit").c_str()), 1, 1000);
    auto list = queue_.ListDeadLetters(after, limit);
    if (!list.ok()) {
      res.status = 500;
      res.set_content(list.status().ToString() + "\n", "text/plain");
      return;
    }
    nlohmann::json items = nlohmann::json::array();
    for (const auto& d : *list) {
      nlohmann::json item = {{"id", d.id},
                             {"reason", d.reason},
                             {"topic", d.topic},
                             {"payload", d.payload},
                             {"received_at", platform::FormatRfc3339Millis(d.received_ms)},
                             {"dead_lettered_at", platform::FormatRfc3339Millis(d.created_ms)}};
      item["seq"] = d.seq ? nlohmann::json(*d.seq) : nlohmann::json();
      items.push_back(std::move(item));
    }
    nlohmann::json page = {{"items", items},
                           {"next_after", list->empty() ? after : list->back().id}};
    res.set_content(page.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                    "application/json");
  });
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
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
  } else {
    port_ = server_->bind_to_port(host, port) ? port : -1;
  }
  if (port_ <= 0) {
    return Status::Unavailable("status.listen: cannot listen on " + config_.status.listen);
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return Status::Ok();
}

void StatusServer::Stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace ferry::agent
