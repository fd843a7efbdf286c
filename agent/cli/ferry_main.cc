// ferry: the edge agent's command line (agent-contract.md, "Programs").
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "agent/config/config.h"
#include "agent/status/dead_letters_cli.h"
#include "agent/status/status_print.h"
#include "agent/status/status_render.h"
#include "platform/signals.h"

namespace {

constexpr const char* kUsage =
    "usage: ferry [run] [--config PATH]        run the agent (default config "
    "/etc/ferry/ferry.json)\n"
    "       ferry check-config [--config PATH] validate a config file: exit 0 valid, 2 invalid\n"
    "       ferry status [--url URL]           show a running agent's state\n"
    "       ferry version                      version, revision, build type, architecture\n"
    "       ferry config-reference             every config key as a Markdown table\n"
    "       ferry config-schema                the config as a JSON Schema\n"
    "       ferry dead-letters list [--url URL] [--after ID] [--limit N]\n"
    "       ferry dead-letters replay [--url URL] (--id ID ... | --all) [--token T]\n";
constexpr const char* kDefaultConfig = "/etc/ferry/ferry.json";

struct Args {
  std::string command = "run";
  std::string sub;  // dead-letters: list | replay
  ferry::agent::DeadLettersArgs dl;
  std::string config = kDefaultConfig;
  std::string url;
  bool config_given = false;
};

// Returns false (after printing why) for a malformed command line.
bool ParseArgs(int argc, char** argv, Args* a) {
  std::vector<std::string> rest(argv + 1, argv + argc);
  size_t i = 0;
  if (i < rest.size() && rest[i].rfind("-", 0) != 0) a->command = rest[i++];
  if (a->command == "dead-letters" && i < rest.size() && rest[i].rfind("-", 0) != 0) {
    a->sub = rest[i++];
  }
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
    } else if (arg == "--after" || arg == "--limit" || arg == "--id" || arg == "--token") {
      std::string v;
      if (!value(&v)) return fprintf(stderr, "ferry: %s needs a value\n", arg.c_str()), false;
      char* end = nullptr;
      long long n = strtoll(v.c_str(), &end, 10);
      bool number = !v.empty() && *end == '\0' && n >= 0;
      if (arg == "--token") {
        a->dl.token = v;
      } else if (!number) {
        return fprintf(stderr, "ferry: %s needs a number, got '%s'\n", arg.c_str(), v.c_str()),
               false;
      } else if (arg == "--after") {
        a->dl.after = n;
      } else if (arg == "--limit") {
        a->dl.limit = static_cast<int>(std::clamp<long long>(n, 1, 1000));
      } else {
        a->dl.ids.push_back(n);
      }
    } else if (arg == "--all") {
      a->dl.all = true;
    } else if (arg == "--help" || arg == "-h") {
      a->command = "help";
    } else {
      fprintf(stderr, "ferry: unknown argument '%s'\n", arg.c_str());
      return false;
    }
  }
  return true;
}

// Loads the config and its secret files; prints the errors and returns false if unusable.
bool Load(const Args& a, ferry::agent::Config* out) {
  auto config = ferry::agent::LoadConfig(a.config);
  ferry::platform::Status st =
      config.ok() ? ferry::agent::ResolveSecrets(&*config) : config.status();
  if (!st.ok()) {
    fprintf(stderr, "%s\n", st.message().c_str());
    return false;
  }
  *out = std::move(*config);
  return true;
}

int CheckConfig(const Args& a) {
  ferry::agent::Config config;
  if (!Load(a, &config)) return 2;
  printf("%s: valid\n", a.config.c_str());
  return 0;
}

std::string StatusUrl(const Args& a);

int Status(const Args& a) {
  std::string out;
  int rc = ferry::agent::PrintStatus(StatusUrl(a), &out);
  fputs(out.c_str(), rc == 0 ? stdout : stderr);
  return rc;
}

std::string StatusUrl(const Args& a) {
  if (!a.url.empty()) return a.url;
  if (a.config_given) {
    auto config = ferry::agent::LoadConfig(a.config);
    if (config.ok()) return "http://" + config->status.listen;
  }
  return "http://127.0.0.1:7070";
}

int DeadLetters(Args a) {
  a.dl.url = StatusUrl(a);
  std::string out;
  int rc = 2;
  if (a.sub == "list") {
    rc = ferry::agent::ListDeadLetters(a.dl, &out);
  } else if (a.sub == "replay") {
    rc = ferry::agent::ReplayDeadLetters(a.dl, &out);
  } else {
    out = "ferry dead-letters: say list or replay\n";
  }
  fputs(out.c_str(), rc == 0 ? stdout : stderr);
  return rc;
}

int Run(const Args& a) {
  ferry::platform::BlockProcessSignals();
  ferry::agent::Config config;
  if (!Load(a, &config)) {
    fprintf(stderr, "ferry: the config above is not valid; `ferry check-config` checks a file\n");
    return 2;
  }
  return ferry::agent::RunAgent(config, a.config);
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
  if (a.command == "dead-letters") return DeadLetters(a);
  if (a.command == "config-reference") {
    fputs(ferry::agent::ConfigReferenceMarkdown().c_str(), stdout);
    return 0;
  }
  if (a.command == "config-schema") {
    fputs(ferry::agent::ConfigJsonSchema().c_str(), stdout);
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
