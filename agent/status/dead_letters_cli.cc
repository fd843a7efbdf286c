#include "agent/status/dead_letters_cli.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

namespace ferry::agent {

namespace {

std::unique_ptr<httplib::Client> Connect(const DeadLettersArgs& a) {
  auto client = std::make_unique<httplib::Client>(a.url);
  client->set_connection_timeout(3, 0);
  client->set_read_timeout(300, 0);  // replaying a large store takes a while
  if (!a.token.empty()) client->set_bearer_token_auth(a.token);
  return client;
}

std::string Unreachable(const std::string& url, httplib::Error e) {
  return "cannot reach " + url + ": " + httplib::to_string(e) +
         "\nIs ferry running? Its status address is status.listen in the config.\n";
}

}  // namespace

int ListDeadLetters(const DeadLettersArgs& a, std::string* out) {
  auto client = Connect(a);
  std::string path =
      "/dead-letters?after=" + std::to_string(a.after) + "&limit=" + std::to_string(a.limit);
  auto res = client->Get(path);
  if (!res) return *out = Unreachable(a.url, res.error()), 1;
  auto page = nlohmann::json::parse(res->body, nullptr, false);
  if (res->status != 200 || !page.is_object()) {
    *out = a.url + path + " answered " + std::to_string(res->status) + "\n";
    return 1;
  }
  for (const auto& d : page["items"]) {
    std::string payload = d.value("payload", "");
    if (payload.size() > 120) payload = payload.substr(0, 117) + "...";
    *out += std::to_string(d.value("id", 0)) + "  " + d.value("dead_lettered_at", "") + "  " +
            d.value("topic", "") + "  " + d.value("reason", "") + "\n    " + payload + "\n";
  }
  if (page["items"].empty()) {
    *out += "no dead letters" + std::string(a.after ? " after id " + std::to_string(a.after) : "") +
            "\n";
  } else if (page["items"].size() == static_cast<size_t>(a.limit)) {
    *out += "more: ferry dead-letters list --after " + page["next_after"].dump() + "\n";
  }
  return 0;
}

int ReplayDeadLetters(const DeadLettersArgs& a, std::string* out) {
  if (!a.all && a.ids.empty()) {
    *out = "ferry dead-letters replay: say which: --id N (repeatable) or --all\n";
    return 2;
  }
  nlohmann::json body = a.all ? nlohmann::json{{"all", true}} : nlohmann::json{{"ids", a.ids}};
  auto res = Connect(a)->Post("/dead-letters/replay", body.dump(), "application/json");
  if (!res) return *out = Unreachable(a.url, res.error()), 1;
  auto result = nlohmann::json::parse(res->body, nullptr, false);
  if (res->status != 200 || !result.is_object()) {
    *out = "replay failed: HTTP " + std::to_string(res->status) + ": " + res->body + "\n";
    return 1;
  }
  *out = "replayed " + result["replayed"].dump() + " dead letters: " + result["records"].dump() +
         " records queued, " + result["dead_again"].dump() + " failed again, " +
         result["ignored"].dump() + " now ignored by a route\n";
  return 0;
}

}  // namespace ferry::agent
