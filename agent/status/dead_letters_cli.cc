#include "agent/status/dead_letters_cli.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "agent/status/payload_view.h"
#include "agent/status/status_client.h"

namespace ferry::agent {

namespace {

constexpr size_t kListPayloadChars = 120;

std::unique_ptr<httplib::Client> Connect(const DeadLettersArgs& a) {
  return StatusClient(a.url, 300, a.token);  // replaying a large store takes a while
}

// The payload's bytes: "payload_hex" when the server sent it (not UTF-8), else "payload".
std::string PayloadOf(const nlohmann::json& item) {
  std::string bytes;
  if (item.contains("payload_hex") && item["payload_hex"].is_string() &&
      FromHex(item["payload_hex"].get<std::string>(), &bytes)) {
    return bytes;
  }
  return item.value("payload", "");
}

std::string Text(const nlohmann::json& item, const char* key) {
  return PayloadLine(item.value(key, ""), 400);
}

// POST of {"ids":[...]} or {"all":true}; the answer's JSON, or the exit code and message.
int PostIds(const DeadLettersArgs& a, const char* path, const char* verb, nlohmann::json* result,
            std::string* out) {
  if (!a.all && a.ids.empty()) {
    *out =
        std::string("ferry dead-letters ") + verb + ": say which: --id N (repeatable) or --all\n";
    return 2;
  }
  nlohmann::json body = a.all ? nlohmann::json{{"all", true}} : nlohmann::json{{"ids", a.ids}};
  auto res = Connect(a)->Post(path, body.dump(), "application/json");
  if (!res) return *out = Unreachable(a.url, res.error()), 1;
  *result = nlohmann::json::parse(res->body, nullptr, false);
  if (res->status != 200 || !result->is_object()) {
    *out = std::string(verb) + " failed: HTTP " + std::to_string(res->status) + ": " +
           PayloadLine(res->body, 400) + "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int ListDeadLetters(const DeadLettersArgs& a, std::string* out) {
  auto client = Connect(a);
  std::string path =
      "/dead-letters?after=" + std::to_string(a.after) + "&limit=" + std::to_string(a.limit);
  auto res = client->Get(path);
  if (!res) return *out = Unreachable(a.url, res.error()), 1;
  auto page = nlohmann::json::parse(res->body, nullptr, false);
  if (res->status != 200 || !page.is_object() || !page["items"].is_array()) {
    *out = a.url + path + " answered " + std::to_string(res->status) + "\n";
    return 1;
  }
  const auto& items = page["items"];
  for (const auto& d : items) {
    *out += std::to_string(d.value("id", 0)) + "  " + d.value("dead_lettered_at", "") + "  " +
            Text(d, "topic") + "  " + Text(d, "reason") + "\n    " +
            PayloadLine(PayloadOf(d), kListPayloadChars) + "\n";
  }
  uint64_t total = page.value("total", uint64_t{0});
  bool more = page.value("more", false);
  if (items.empty()) {
    *out += "no dead letters" + std::string(a.after ? " after id " + std::to_string(a.after) : "") +
            (total ? " (" + std::to_string(total) + " in all)" : "") + "\n";
    return 0;
  }
  *out += "shown " + std::to_string(items.size()) + " of " + std::to_string(total) +
          " dead letters (ids " + std::to_string(items.front().value("id", 0)) + " to " +
          std::to_string(items.back().value("id", 0)) + ")\n";
  if (more) *out += "more: ferry dead-letters list --after " + page["next_after"].dump() + "\n";
  return 0;
}

int ShowDeadLetter(const DeadLettersArgs& a, std::string* out) {
  if (a.ids.empty()) return *out = "ferry dead-letters show: say which: show ID\n", 2;
  std::string path = "/dead-letters/" + std::to_string(a.ids.front());
  auto res = Connect(a)->Get(path);
  if (!res) return *out = Unreachable(a.url, res.error()), 1;
  auto d = nlohmann::json::parse(res->body, nullptr, false);
  if (res->status == 404) return *out = "no dead letter with id " + path.substr(14) + "\n", 1;
  if (res->status != 200 || !d.is_object()) {
    *out = a.url + path + " answered " + std::to_string(res->status) + "\n";
    return 1;
  }
  std::string payload = PayloadOf(d);
  *out = "id             " + std::to_string(d.value("id", 0)) + "\n";
  *out += "topic          " + Text(d, "topic") + "\n";
  *out += "reason         " + Text(d, "reason") + "\n";
  *out += "received at    " + d.value("received_at", "") + "\n";
  *out += "dead-lettered  " + d.value("dead_lettered_at", "") + "\n";
  if (d.contains("seq") && !d["seq"].is_null()) *out += "seq            " + d["seq"].dump() + "\n";
  *out += "payload        " + std::to_string(payload.size()) + " bytes, " +
          (IsUtf8Text(payload) ? "text (control characters escaped):" : "binary (hex):") + "\n";
  *out += PayloadDump(payload);
  if (!out->empty() && out->back() != '\n') *out += '\n';
  return 0;
}

int ReplayDeadLetters(const DeadLettersArgs& a, std::string* out) {
  nlohmann::json result;
  if (int rc = PostIds(a, "/dead-letters/replay", "replay", &result, out); rc != 0) return rc;
  *out = "replayed " + result["replayed"].dump() + " dead letters: " + result["records"].dump() +
         " records queued, " + result["dead_again"].dump() + " failed again, " +
         result["ignored"].dump() + " now ignored by a route\n";
  return 0;
}

int PurgeDeadLetters(const DeadLettersArgs& a, std::string* out) {
  nlohmann::json result;
  if (int rc = PostIds(a, "/dead-letters/purge", "purge", &result, out); rc != 0) return rc;
  *out = "purged " + result["purged"].dump() + " dead letters; " + result["dead_letters"].dump() +
         " remain\n";
  return 0;
}

}  // namespace ferry::agent
