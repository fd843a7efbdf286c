// The status server's endpoints that change something: replay and purge of dead letters, a
// config reload, the log level. Each is guarded by MayChange (token, cross-site requests).
#include <httplib.h>

#include "agent/status/http_answer.h"
#include "agent/status/status_server.h"
#include "platform/log.h"

namespace ferry::agent {

namespace {

// Reads {"ids":[1,2]} or {"all":true}; false (after answering 400) for anything else.
bool ReadIdsBody(const httplib::Request& req, httplib::Response& res, std::vector<int64_t>* ids,
                 bool* all) {
  auto body = nlohmann::json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
  if (body.is_object() && body.contains("ids") && body["ids"].is_array()) {
    for (const auto& id : body["ids"]) {
      if (id.is_number_integer()) ids->push_back(id.get<int64_t>());
    }
  }
  *all = body.is_object() && body.value("all", false);
  if (body.is_object() && (!ids->empty() || *all)) return true;
  JsonAnswer(res, 400, {{"error", "send {\"ids\":[1,2]} or {\"all\":true}"}});
  return false;
}

// The HTTP status of a change that failed: the caller's input (400), no room (507), the agent
// stopping or a peer away, so the request may be tried again later (503), anything else (500).
int HttpStatusOf(const platform::Status& st) {
  switch (st.code()) {
    case platform::Code::kInvalidArgument:
      return 400;
    case platform::Code::kNoSpace:
      return 507;
    case platform::Code::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

const char* LevelName(platform::LogLevel level) {
  switch (level) {
    case platform::LogLevel::kDebug:
      return "debug";
    case platform::LogLevel::kInfo:
      return "info";
    case platform::LogLevel::kWarn:
      return "warn";
    case platform::LogLevel::kError:
      return "error";
  }
  return "info";
}

platform::LogLevel CurrentLevel() {
  for (auto l :
       {platform::LogLevel::kDebug, platform::LogLevel::kInfo, platform::LogLevel::kWarn}) {
    if (platform::LogEnabled(l)) return l;
  }
  return platform::LogLevel::kError;
}

}  // namespace

void StatusServer::ChangeRoutes() {
  server_->Post("/dead-letters/replay",
                [this](const httplib::Request& req, httplib::Response& res) {
                  std::vector<int64_t> ids;
                  bool all = false;
                  if (!MayChange(req, res) || !ReadIdsBody(req, res, &ids, &all)) return;
                  auto result = replay_(ids);
                  if (!result.ok()) {
                    return JsonAnswer(res, HttpStatusOf(result.status()),
                                      {{"error", result.status().ToString()}});
                  }
                  JsonAnswer(res, 200,
                             {{"replayed", result->replayed},
                              {"records", result->records},
                              {"dead_again", result->dead_again},
                              {"ignored", result->ignored}});
                });
  server_->Post("/dead-letters/purge", [this](const httplib::Request& req, httplib::Response& res) {
    std::vector<int64_t> ids;
    bool all = false;
    if (!MayChange(req, res) || !ReadIdsBody(req, res, &ids, &all)) return;
    auto purged = queue_.PurgeDeadLetters(ids, all);
    if (!purged.ok()) {
      return JsonAnswer(res, HttpStatusOf(purged.status()),
                        {{"error", purged.status().ToString()}});
    }
    metrics_.dead_letters_purged += *purged;
    platform::LogInfo("status", "purged " + std::to_string(*purged) + " dead letters" +
                                    (all ? " (all)" : "") + " on request");
    JsonAnswer(res, 200, {{"purged", *purged}, {"dead_letters", queue_.Stats().dead_letters}});
  });
  server_->Post("/reload", [this](const httplib::Request& req, httplib::Response& res) {
    if (!MayChange(req, res)) return;
    platform::Status st = reload_();
    int code = st.ok() ? 200 : HttpStatusOf(st);
    JsonAnswer(res, code,
               st.ok() ? nlohmann::json{{"reloaded", true}}
                       : nlohmann::json{{"reloaded", false}, {"error", st.message()}});
  });
  server_->Get("/log-level", [](const httplib::Request&, httplib::Response& res) {
    JsonAnswer(res, 200, {{"level", LevelName(CurrentLevel())}});
  });
  // {"level": "debug"}: until the next reload or restart, which apply log.level again.
  server_->Post("/log-level", [this](const httplib::Request& req, httplib::Response& res) {
    if (!MayChange(req, res)) return;
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    platform::LogLevel level;
    if (!body.is_object() || !body.contains("level") || !body["level"].is_string() ||
        !platform::ParseLogLevel(body["level"].get<std::string>(), &level)) {
      return JsonAnswer(res, 400, {{"error", "send {\"level\": \"debug|info|warn|error\"}"}});
    }
    platform::LogLevel before = CurrentLevel();
    platform::SetLogLevel(level);
    platform::Log(std::max(level, platform::LogLevel::kInfo), "status",
                  std::string("log level ") + LevelName(before) + " -> " + LevelName(level) +
                      " on request (until the next reload)");
    JsonAnswer(res, 200, {{"level", LevelName(level)}, {"was", LevelName(before)}});
  });
}

}  // namespace ferry::agent
