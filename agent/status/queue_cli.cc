#include "agent/status/queue_cli.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "agent/status/status_client.h"

namespace ferry::agent {

int PeekQueue(const QueuePeekArgs& a, std::string* out) {
  std::string path = "/queue/peek?limit=" + std::to_string(a.limit);
  auto res = StatusClient(a.url, 30)->Get(path);
  if (!res) return *out = Unreachable(a.url, res.error()), 1;
  auto page = nlohmann::json::parse(res->body, nullptr, false);
  if (res->status != 200 || !page.is_object() || !page["records"].is_array()) {
    std::string why = page.is_object() && page.contains("error") && page["error"].is_string()
                          ? ": " + page["error"].get<std::string>()
                          : "";
    *out = StatusBaseUrl(a.url) + path + " answered " + std::to_string(res->status) + why + "\n";
    return 1;
  }
  const auto& records = page["records"];
  uint64_t queued = page.value("queued", uint64_t{0});
  if (records.empty()) return *out = "queue empty: no records waiting to be sent\n", 0;
  *out = std::to_string(queued) + (queued == 1 ? " record" : " records") + " queued, the oldest " +
         std::to_string(records.size()) + ":\n";
  for (const auto& line : records) {
    // As sent: a record line is JSON text, with every control character escaped already.
    *out += (line.is_string() ? line.get<std::string>() : line.dump()) + "\n";
  }
  if (page.value("more", false)) {
    *out += "more: " + std::to_string(queued - records.size()) +
            " not shown (ferry queue peek --limit N shows up to 1000)\n";
  }
  return 0;
}

}  // namespace ferry::agent
