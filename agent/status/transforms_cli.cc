#include "agent/status/transforms_cli.h"

#include <cstdio>

#include "agent/config/config.h"
#include "agent/status/status_client.h"
#include "agent/status/transforms_render.h"

namespace ferry::agent {

namespace {

using nlohmann::json;

std::string Ms(double seconds) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.1f ms", seconds * 1000);
  return buf;
}

std::string Text(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

std::string FormatTransforms(const json& transforms) {
  if (!transforms.is_object() || transforms.empty()) return "no transforms configured\n";
  std::string out;
  for (const auto& [name, t] : transforms.items()) {
    std::string command;
    for (const auto& arg : t.value("command", json::array())) {
      command += (command.empty() ? "" : " ") + (arg.is_string() ? arg.get<std::string>() : "");
    }
    std::string isolation = Text(t, "isolation");
    if (isolation.empty()) isolation = "sandbox " + Text(t, "sandbox") + " (not started)";
    out += name + "  " + Text(t, "state") + "  isolation: " + isolation + "\n";
    out += "  command:  " + command + "\n";
    std::string pin = Text(t, "sha256");
    out += "  sha256:   " + (pin.empty() ? "unknown" : pin) +
           (t.value("pinned", false) ? " (pinned)" : " (not pinned)") + "\n";
    const json& l = t.value("limits", json::object());
    out += "  limits:   timeout " + Text(l, "timeout") + ", memory " + Text(l, "memory") +
           ", cpu " + Text(l, "cpu") + ", max_output " + Text(l, "max_output") + ", in flight " +
           Text(l, "max_in_flight") + ", processes " + Text(l, "max_processes") + "\n";
    out += "  requests " + Text(t, "requests") + ", errors " + Text(t, "errors") + ", failures " +
           Text(t, "failures") + ", restarts " + Text(t, "restarts") + ", latency mean " +
           Ms(t.value("latency_mean_seconds", 0.0)) + ", last batch max " +
           Ms(t.value("latency_max_seconds", 0.0)) + "\n";
    std::string failure = Text(t, "last_failure");
    if (!failure.empty()) out += "  last failure: " + failure + "\n";
  }
  return out;
}

int ListTransforms(const TransformsArgs& a, std::string* out) {
  auto res = StatusClient(a.url, 10)->Get("/status");
  json transforms;
  if (res && res->status == 200) {
    json status = json::parse(res->body, nullptr, false);
    transforms = status.is_object() ? status.value("transforms", json::object()) : json::object();
  } else if (!a.config.empty()) {
    platform::Result<Config> config = LoadConfig(a.config);
    if (!config.ok()) return *out = config.status().message() + "\n", 2;
    std::vector<TransformInfo> infos;
    for (const auto& [name, t] : config->transforms) {
      TransformInfo info;
      info.config = &t;
      info.pin = t.sha256;
      info.stats.state = "not running";
      infos.push_back(info);
    }
    transforms = TransformsJson(infos);
    *out = "(no agent answers at " + StatusBaseUrl(a.url) + "; from " + a.config + ")\n";
  } else {
    *out = res ? StatusBaseUrl(a.url) + "/status answered " + std::to_string(res->status) + "\n"
               : Unreachable(a.url, res.error());
    return 1;
  }
  *out += a.json ? transforms.dump(2) + "\n" : FormatTransforms(transforms);
  return 0;
}

}  // namespace ferry::agent
