// ferry: the edge agent's command line (agent-contract.md, "Programs").
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "agent/config/config.h"
#include "agent/normalize/rules_cli.h"
#include "agent/status/dead_letters_cli.h"
#include "agent/status/queue_cli.h"
#include "agent/status/status_print.h"
#include "agent/status/status_render.h"
#include "agent/status/transforms_cli.h"
#include "platform/clock.h"
#include "platform/memory.h"
#include "platform/signals.h"

namespace {

constexpr const char* kUsage =
    "usage: ferry [run] [--config PATH] [--log-level L]  run the agent (default config "
    "/etc/ferry/ferry.json)\n"
    "       ferry check-config [--config PATH] validate a config file: exit 0 valid, 2 invalid\n"
    "       ferry status [--url URL] [--watch [--interval S] | --json]  a running agent's "
    "state\n"
    "       ferry version                      version, revision, build type, architecture\n"
    "       ferry --version | --help | COMMAND --help\n"
    "       ferry config-reference             every config key as a Markdown table\n"
    "       ferry config-schema                the config as a JSON Schema\n"
    "       ferry dead-letters list [--url URL] [--after ID] [--limit N]\n"
    "       ferry dead-letters show ID [--url URL]\n"
    "       ferry dead-letters purge [--url URL] (--id ID ... | --all) [--token T]\n"
    "       ferry dead-letters replay [--url URL] (--id ID ... | --all) [--token T]\n"
    "       ferry queue peek [--url URL] [--limit N]  the oldest queued records, as sent\n"
    "       ferry normalize --config F --topic T (--payload P | --payload-file F | --hex H)\n"
    "       ferry test-rules --config F [--cases FILE]\n"
    "       ferry transforms [--url URL] [--config F] [--json]  each transform: command, pin,\n"
    "                                          limits, isolation, state and counters\n";
constexpr const char* kDefaultConfig = "/etc/ferry/ferry.json";

struct Args {
  std::string command = "run";
  std::string sub;       // dead-letters: list | show | replay | purge; queue: peek
  std::string help_for;  // `COMMAND --help`: that command's usage
  ferry::agent::DeadLettersArgs dl;
  ferry::agent::QueuePeekArgs peek;
  std::string config = kDefaultConfig;
  std::string url;
  ferry::agent::StatusArgs status;
  std::string log_level;  // run --log-level: overrides log.level until a reload
  bool config_given = false;
};

// Returns false (after printing why) for a malformed command line.
bool ParseArgs(int argc, char** argv, Args* a) {
  std::vector<std::string> rest(argv + 1, argv + argc);
  size_t i = 0;
  if (i < rest.size() && rest[i].rfind("-", 0) != 0) a->command = rest[i++];
  bool has_sub = a->command == "dead-letters" || a->command == "queue";
  if (has_sub && i < rest.size() && rest[i].rfind("-", 0) != 0) {
    a->sub = rest[i++];
    if (a->command == "dead-letters" && a->sub == "show" && i < rest.size() &&
        rest[i].rfind("-", 0) != 0) {
      char* end = nullptr;
      long long id = strtoll(rest[i].c_str(), &end, 10);
      if (*end != '\0' || id <= 0) {
        return fprintf(stderr, "ferry: dead-letters show needs an id, got '%s'\n", rest[i].c_str()),
               false;
      }
      a->dl.ids.push_back(id);
      ++i;
    }
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
        a->peek.limit = a->dl.limit;
      } else {
        a->dl.ids.push_back(n);
      }
    } else if (arg == "--json") {
      a->status.json = true;
    } else if (arg == "--watch") {
      a->status.watch = true;
    } else if (arg == "--interval") {
      std::string v;
      char* end = nullptr;
      double seconds = value(&v) ? strtod(v.c_str(), &end) : 0;
      if (v.empty() || *end != '\0' || seconds < 0.2 || seconds > 3600) {
        return fprintf(stderr, "ferry: --interval needs seconds from 0.2 to 3600\n"), false;
      }
      a->status.interval_ms = static_cast<int>(seconds * 1000);
    } else if (arg == "--log-level") {
      if (!value(&a->log_level))
        return fprintf(stderr, "ferry: --log-level needs a level\n"), false;
    } else if (arg == "--all") {
      a->dl.all = true;
    } else if (arg == "--help" || arg == "-h") {
      a->help_for = a->command == "run" && i == 0 ? "" : a->command;
      a->command = "help";
    } else if (arg == "--version" || arg == "-V") {
      a->command = "version";
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

// All of `text`, also past a NUL byte.
void Write(const std::string& text, FILE* to) { fwrite(text.data(), 1, text.size(), to); }

// The usage lines of one command ("run", "dead-letters"), or all of them.
std::string UsageOf(const std::string& command) {
  if (command.empty()) return kUsage;
  std::string out, line;
  for (const char* p = kUsage; *p; ++p) {
    line += *p;
    if (*p != '\n') continue;
    size_t at = line.find("ferry ");
    if (at != std::string::npos && line.compare(at + 6, command.size() + 1, command + " ") == 0) {
      out += "usage: " + line.substr(at);
    } else if (command == "run" && line.find("ferry [run]") != std::string::npos) {
      out += "usage: " + line.substr(line.find("ferry [run]"));
    }
    line.clear();
  }
  return out.empty() ? kUsage : out;
}

std::string StatusUrl(const Args& a);

int Status(Args a) {
  a.status.url = StatusUrl(a);
  return ferry::agent::RunStatus(a.status);
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
  } else if (a.sub == "show") {
    rc = ferry::agent::ShowDeadLetter(a.dl, &out);
  } else if (a.sub == "replay") {
    rc = ferry::agent::ReplayDeadLetters(a.dl, &out);
  } else if (a.sub == "purge") {
    rc = ferry::agent::PurgeDeadLetters(a.dl, &out);
  } else {
    out = "ferry dead-letters: say list, show, replay or purge\n";
  }
  Write(out, rc == 0 ? stdout : stderr);
  return rc;
}

int Transforms(const Args& a) {
  ferry::agent::TransformsArgs t;
  t.url = StatusUrl(a);
  t.config = a.config_given ? a.config : "";
  t.json = a.status.json;
  std::string out;
  int rc = ferry::agent::ListTransforms(t, &out);
  Write(out, rc == 0 ? stdout : stderr);
  return rc;
}

int Queue(Args a) {
  a.peek.url = StatusUrl(a);
  std::string out = "ferry queue: say peek\n";
  int rc = a.sub == "peek" ? ferry::agent::PeekQueue(a.peek, &out) : 2;
  Write(out, rc == 0 ? stdout : stderr);
  return rc;
}

int Run(const Args& a) {
  ferry::platform::BlockProcessSignals();
  ferry::agent::Config config;
  if (!Load(a, &config)) {
    fprintf(stderr, "ferry: the config above is not valid; `ferry check-config` checks a file\n");
    return 2;
  }
  if (!a.log_level.empty()) {
    auto level = ferry::agent::ParseName<ferry::platform::LogLevel>(a.log_level);
    if (!level) {
      fprintf(stderr, "ferry: --log-level must be debug, info, warn or error\n");
      return 2;
    }
    config.log.level = *level;
  }
  return ferry::agent::RunAgent(config, a.config);
}

}  // namespace

int main(int argc, char** argv) {
  ferry::platform::FixAllocatorThresholds();
  // The rule-testing commands parse their own options (agent/normalize/rules_cli.h).
  if (argc > 1 && (!std::strcmp(argv[1], "normalize") || !std::strcmp(argv[1], "test-rules"))) {
    std::vector<std::string> args(argv + 2, argv + argc);
    int64_t now = ferry::platform::SystemClock().WallMillis();
    return !std::strcmp(argv[1], "normalize")
               ? ferry::agent::RunNormalizeCommand(args, now, stdout, stderr)
               : ferry::agent::RunTestRulesCommand(args, now, stdout, stderr);
  }
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
  if (a.command == "queue") return Queue(a);
  if (a.command == "transforms") return Transforms(a);
  if (a.command == "config-reference") {
    fputs(ferry::agent::ConfigReferenceMarkdown().c_str(), stdout);
    return 0;
  }
  if (a.command == "config-schema") {
    fputs(ferry::agent::ConfigJsonSchema().c_str(), stdout);
    return 0;
  }
  if (a.command == "help") {
    fputs(UsageOf(a.help_for).c_str(), stdout);
    return 0;
  }
  fprintf(stderr, "ferry: unknown command '%s'\n", a.command.c_str());
  fputs(kUsage, stderr);
  return 2;
}
