// ferry: the edge agent's command line (agent-contract.md, "Programs").
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "agent/config/config.h"
#include "agent/status/status_print.h"
#include "agent/status/status_render.h"
#include "platform/signals.h"

namespace {

constexpr const char* kUsage =
    "usage: ferry [run] [--config PATH]        run the agent (default config /etc/ferry/ferry.json)\n"
    "       ferry check-config [--config PATH] validate a config file: exit 0 valid, 2 invalid\n"
    "       ferry status [--url URL]           show a running agent's state\n"
    "       ferry version                      version, revision, build type, architecture\n"
    "       ferry config-reference             every config key as a Markdown table\n";
constexpr const char* kDefaultConfig = "/etc/ferry/ferry.json";

struct Args {
  std::string command = "run";
  std::string config = kDefaultConfig;
  std::string url;
  bool config_given = false;
};

// Returns false (after printing why) for a malformed command line.
bool ParseArgs(int argc, char** argv, Args* a) {
  std::vector<std::string> rest(argv + 1, argv + argc);
  size_t i = 0;
  if (i < rest.size() && rest[i].rfind("-", 0) != 0) a->command = rest[i++];
  for (; i < rest.size(); ++i) {
    const std::string& arg = rest[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= rest.size()) return false;
      *out = rest[++i];
      return true;
    };
    if (arg == "--config" || arg == "-c") {
      if (!value(&a->config)) return fprintf(stderr, "ferry: --config needs a path\n"), false;
      a->config_given = true;
    } else if (arg.rfind("--config=", 0) == 0) {
      a->config = arg.substr(9);
      a->config_given = true;
    } else if (arg == "--url") {
      if (!value(&a->url)) return fprintf(stderr, "ferry: --url needs a URL\n"), false;
    } else if (arg == "--help" || arg == "-h") {
      a->command = "help";
    } else {
      fprintf(stderr, "ferry: unknown argument '%s'\n", arg.c_str());
      return false;
    }
  }
  return true;
}

int CheckConfig(const Args& a) {
  auto config = ferry::agent::LoadConfig(a.config);
  if (!config.ok()) {
    fprintf(stderr, "%s\n", config.status().message().c_str());
    return 2;
  }
  printf("%s: valid\n", a.config.c_str());
  return 0;
}

int Status(const Args& a) {
  std::string url = a.url;
  if (url.empty()) {
    url = "http://127.0.0.1:7070";
    if (a.config_given) {
      auto config = ferry::agent::LoadConfig(a.config);
      if (config.ok()) url = "http://" + config->status.listen;
    }
  }
  std::string out;
  int rc = ferry::agent::PrintStatus(url, &out);
  fputs(out.c_str(), rc == 0 ? stdout : stderr);
  return rc;
}

int Run(const Args& a) {
  ferry::platform::BlockProcessSignals();
  auto config = ferry::agent::LoadConfig(a.config);
  if (!config.ok()) {
    fprintf(stderr, "ferry: invalid config:\n%s\n", config.status().message().c_str());
    return 2;
  }
  return ferry::agent::RunAgent(*config, a.config);
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!ParseArgs(argc, argv, &a)) {
    fputs(kUsage, stderr);
    return 2;
  }
  if (a.command == "run") return Run(a);
  if (a.command == "check-config") return CheckConfig(a);
  if (a.command == "status") return Status(a);
  if (a.command == "version") {
    printf("%s\n", ferry::agent::VersionString().c_str());
    return 0;
  }
  if (a.command == "config-reference") {
    fputs(ferry::agent::ConfigReferenceMarkdown().c_str(), stdout);
    return 0;
  }
  if (a.command == "help") {
    fputs(kUsage, stdout);
    return 0;
  }
  fprintf(stderr, "ferry: unknown command '%s'\n", a.command.c_str());
  fputs(kUsage, stderr);
  return 2;
}
