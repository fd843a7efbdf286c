#include "agent/normalize/rules_cli.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "agent/config/config.h"
#include "agent/normalize/date_time.h"
#include "agent/transform/transform_set.h"
#include "platform/clock.h"
#include "platform/file.h"
#include "platform/log.h"
#include "platform/process.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

struct Options {
  std::string config, topic, payload, cases, received;
  bool have_topic = false, have_payload = false;
};

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool Unhex(const std::string& hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexDigit(hex[i]), lo = HexDigit(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

// Parses the options both commands share; false after printing why.
bool ParseOptions(const std::vector<std::string>& args, Options* o, std::FILE* err) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (i + 1 >= args.size()) {
      std::fprintf(err, "ferry: %s needs a value\n", a.c_str());
      return false;
    }
    const std::string& v = args[++i];
    if (a == "--config") {
      o->config = v;
    } else if (a == "--topic") {
      o->topic = v;
      o->have_topic = true;
    } else if (a == "--payload") {
      o->payload = v;
      o->have_payload = true;
    } else if (a == "--payload-file") {
      platform::Result<std::string> text = platform::ReadFile(v);
      if (!text.ok()) {
        std::fprintf(err, "ferry: --payload-file: %s\n", text.status().message().c_str());
        return false;
      }
      o->payload = *text;
      o->have_payload = true;
    } else if (a == "--hex") {
      if (!Unhex(v, &o->payload)) {
        std::fprintf(err, "ferry: --hex: expected an even number of hex digits\n");
        return false;
      }
      o->have_payload = true;
    } else if (a == "--cases") {
      o->cases = v;
    } else if (a == "--received") {
      o->received = v;
    } else {
      std::fprintf(err, "ferry: unknown option %s\n", a.c_str());
      return false;
    }
  }
  if (o->config.empty()) {
    std::fprintf(err, "ferry: --config is required\n");
    return false;
  }
  return true;
}

bool ReceivedMs(const std::string& text, int64_t now_ms, int64_t* ms, std::FILE* err) {
  if (text.empty()) {
    *ms = now_ms;
    return true;
  }
  std::optional<int64_t> parsed = ParseRfc3339Ms(text);
  if (!parsed) {
    std::fprintf(err, "ferry: --received: expected an RFC 3339 time like 2026-11-21T10:15:00Z\n");
    return false;
  }
  *ms = *parsed;
  return true;
}

// All records of one message; `*route` (if not null) the index of the route that applied.
Outcome RunOne(const Normalizer& n, const Message& msg, std::vector<Normalized>* records,
               DeadLetterReason* reason, int* route = nullptr) {
  records->assign(1, Normalized());
  std::vector<Normalized> more;
  Outcome o = n.Normalize(msg, &(*records)[0], reason, &more);
  if (route != nullptr) *route = (*records)[0].route;
  if (o != Outcome::kRecord) {
    records->clear();
    return o;
  }
  for (Normalized& m : more) records->push_back(std::move(m));
  return o;
}

std::string OutcomeText(Outcome o, const std::string& reason) {
  if (o == Outcome::kRecord) return "a record";
  if (o == Outcome::kIgnored) return "ignored";
  return "dead letter: " + reason;
}

// Equal JSON, numbers by value within 1e-9 relative: a case written by hand says 13.5 where
// arithmetic on binary floats gives 13.499999999999998.
bool Same(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) {
    if (!a.is_number_float() && !b.is_number_float()) return a == b;
    double x = a.get<double>(), y = b.get<double>();
    return std::fabs(x - y) <= 1e-9 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.type() != b.type() || a.size() != b.size()) return false;
  if (a.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto other = b.find(it.key());
      if (other == b.end() || !Same(*it, *other)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    for (size_t i = 0; i < a.size(); ++i) {
      if (!Same(a[i], b[i])) return false;
    }
    return true;
  }
  return a == b;
}

void DiffRecord(const json& want, const json& got, const std::string& at,
                std::vector<std::string>* diffs) {
  for (const char* key : {"device", "ts", "ts_source", "labels"}) {
    if (!want.contains(key)) continue;
    json have = got.value(key, key == std::string("labels") ? json::object() : json(""));
    if (want[key] != have) {
      diffs->push_back(at + key + ": expected " + want[key].dump() + ", got " + have.dump());
    }
  }
  if (!want.contains("data")) return;
  if (!want["data"].is_object()) {
    diffs->push_back(at + "data: the expectation must be an object of fields");
    return;
  }
  const json& data = got["data"];
  for (const auto& [field, value] : want["data"].items()) {
    auto it = data.find(field);
    if (it == data.end()) {
      diffs->push_back(at + "data." + field + ": expected " + value.dump() + ", missing");
    } else if (!Same(value, *it)) {
      diffs->push_back(at + "data." + field + ": expected " + value.dump() + ", got " + it->dump());
    }
  }
}

}  // namespace

json RecordJson(const Normalized& n) {
  json r = json::object();
  if (!n.device.empty()) r["device"] = n.device;
  r["ts"] = platform::FormatRfc3339Millis(n.ts_ms);
  r["ts_source"] = n.ts_from_payload ? "payload" : "received";
  if (!n.labels.empty()) r["labels"] = n.labels;
  r["data"] = n.data;
  return r;
}

std::vector<std::string> DiffCase(const json& expect, Outcome outcome,
                                  const std::vector<Normalized>& records,
                                  const std::string& reason) {
  std::vector<std::string> diffs;
  if (expect.contains("dead_letter")) {
    std::string want =
        expect["dead_letter"].is_string() ? expect["dead_letter"].get<std::string>() : "";
    if (outcome != Outcome::kDeadLetter) {
      diffs.push_back("outcome: expected dead letter \"" + want + "...\", got " +
                      OutcomeText(outcome, reason));
    } else if (reason.rfind(want, 0) != 0) {
      diffs.push_back("reason: expected to start with \"" + want + "\", got \"" + reason + "\"");
    }
    return diffs;
  }
  if (expect.contains("ignored")) {
    if (outcome != Outcome::kIgnored) {
      diffs.push_back("outcome: expected ignored, got " + OutcomeText(outcome, reason));
    }
    return diffs;
  }
  json wants = expect.contains("records") ? expect["records"]
                                          : json::array({expect.value("record", json::object())});
  bool well_formed = wants.is_array();
  for (size_t i = 0; well_formed && i < wants.size(); ++i) well_formed = wants[i].is_object();
  if (!well_formed) {
    diffs.push_back("expect: \"record\" must be an object, \"records\" a list of objects");
    return diffs;
  }
  if (outcome != Outcome::kRecord) {
    diffs.push_back("outcome: expected " + std::to_string(wants.size()) + " record(s), got " +
                    OutcomeText(outcome, reason));
    return diffs;
  }
  if (wants.size() != records.size()) {
    diffs.push_back("records: expected " + std::to_string(wants.size()) + ", got " +
                    std::to_string(records.size()));
  }
  for (size_t i = 0; i < wants.size() && i < records.size(); ++i) {
    std::string at = wants.size() > 1 ? "record " + std::to_string(i + 1) + ": " : "";
    DiffRecord(wants[i], RecordJson(records[i]), at, &diffs);
  }
  return diffs;
}

// Runs the route's transform on the rules' records, as the agent does (its private directory
// under $TMPDIR, not the queue's); prints what ran. False with `*reason` when it failed.
static bool RunTransform(const Config& config, int route, const Message& msg,
                         std::vector<Normalized>* records, std::string* reason, std::FILE* out) {
  std::string tmp = platform::GetEnv("TMPDIR");
  TransformSet set(config, (tmp.empty() ? "/tmp" : tmp) + "/ferry-normalize",
                   platform::SystemClock());
  TransformRunner* runner = set.ForRoute(route);
  TransformItem item;
  item.topic = msg.topic;
  item.payload = msg.payload;
  item.received_ms = msg.received_ms;
  item.input = std::move(*records);
  runner->Run(std::span<TransformItem>(&item, 1));
  TransformStats stats = runner->Stats();
  std::fprintf(out, "transform %s (sha256 %s, %s) took %.1f ms\n", runner->config().name.c_str(),
               set.PinOf(runner).empty() ? "unknown" : set.PinOf(runner).c_str(),
               stats.isolation.empty() ? "not started" : stats.isolation.c_str(),
               stats.latency_sum_s * 1000);
  if (!item.error.empty()) return *reason = item.error, false;
  *records = std::move(item.records);
  return true;
}

int RunNormalizeCommand(const std::vector<std::string>& args, int64_t now_ms, std::FILE* out,
                        std::FILE* err) {
  Options o;
  if (!ParseOptions(args, &o, err)) return 2;
  if (!o.have_topic || !o.have_payload) {
    std::fprintf(
        err, "ferry normalize: --topic and one of --payload, --payload-file, --hex are required\n");
    return 2;
  }
  int64_t received = 0;
  if (!ReceivedMs(o.received, now_ms, &received, err)) return 2;
  platform::Result<Config> config = LoadConfig(o.config);
  if (!config.ok()) {
    std::fprintf(err, "%s\n", config.status().message().c_str());
    return 2;
  }
  platform::Result<Normalizer> compiled = Normalizer::Create(config->routes);
  if (!compiled.ok()) {
    std::fprintf(err, "%s\n", compiled.status().message().c_str());
    return 2;
  }
  const Normalizer& n = *compiled;
  Message msg{o.topic, o.payload, received};
  for (const std::string& line : n.Explain(msg)) std::fprintf(out, "%s\n", line.c_str());
  std::vector<Normalized> records;
  DeadLetterReason reason;
  int route = -1;
  Outcome outcome = RunOne(n, msg, &records, &reason, &route);
  if (route < 0) {
    std::fprintf(out, "no route matches: the default rule applies\n");
  } else {
    std::fprintf(out, "route %d (topic \"%s\") applies\n", route,
                 config->routes[route].topic.c_str());
  }
  if (outcome == Outcome::kIgnored) {
    std::fprintf(out, "ignored\n");
    return 0;
  }
  std::string transform;
  if (outcome == Outcome::kRecord && route >= 0 && !config->routes[route].transform.empty()) {
    transform = config->routes[route].transform;
    if (!RunTransform(*config, route, msg, &records, &reason.text, out)) {
      reason.code = DeadLetterCode::kTransform;
      outcome = Outcome::kDeadLetter;
    }
  }
  if (outcome == Outcome::kDeadLetter) {
    std::fprintf(out, "dead letter: %s\n", reason.text.c_str());
    return 1;
  }
  for (const Normalized& r : records) {
    // In the order a person reads a record; the data's members as JSON keeps them (sorted).
    nlohmann::ordered_json line;
    json j = RecordJson(r);
    for (const char* key : {"device", "ts", "ts_source", "labels", "data"}) {
      if (j.contains(key)) line[key] = j[key];
    }
    if (!transform.empty()) line["transform"] = transform;
    std::fprintf(out, "%s\n", line.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
  }
  return 0;
}

namespace {

struct Case {
  std::string name, topic, payload, received;
  json expect;
};

// One line of a cases file; false if it is not a case.
bool ParseCase(const std::string& line, Case* c) {
  json j = json::parse(line, nullptr, false);
  if (!j.is_object()) return false;
  auto text = [&](const char* key, std::string* out) {
    auto it = j.find(key);
    if (it == j.end()) return true;
    if (!it->is_string()) return false;
    *out = it->get<std::string>();
    return true;
  };
  std::string hex;
  if (!text("name", &c->name) || !text("topic", &c->topic) || !text("payload", &c->payload) ||
      !text("payload_hex", &hex) || !text("received", &c->received)) {
    return false;
  }
  if (j.contains("payload_hex") && !Unhex(hex, &c->payload)) return false;
  auto expect = j.find("expect");
  if (!j.contains("topic") || expect == j.end() || !expect->is_object()) return false;
  c->expect = *expect;
  return j.contains("payload") || j.contains("payload_hex");
}

std::string DefaultCasesPath(std::string config) {
  if (config.size() > 5 && config.compare(config.size() - 5, 5, ".json") == 0) {
    config.resize(config.size() - 5);
  }
  return config + ".cases.ndjson";
}

}  // namespace

int RunTestRulesCommand(const std::vector<std::string>& args, int64_t now_ms, std::FILE* out,
                        std::FILE* err) {
  Options o;
  if (!ParseOptions(args, &o, err)) return 2;
  if (o.cases.empty()) o.cases = DefaultCasesPath(o.config);
  platform::Result<Config> config = LoadConfig(o.config);
  if (!config.ok()) {
    std::fprintf(err, "%s\n", config.status().message().c_str());
    return 2;
  }
  platform::Result<std::string> text = platform::ReadFile(o.cases);
  if (!text.ok()) {
    std::fprintf(err, "ferry test-rules: %s\n", text.status().message().c_str());
    return 2;
  }
  platform::Result<Normalizer> compiled = Normalizer::Create(config->routes);
  if (!compiled.ok()) {
    std::fprintf(err, "ferry test-rules: %s\n", compiled.status().message().c_str());
    return 2;
  }
  const Normalizer& n = *compiled;
  size_t passed = 0, failed = 0, line_no = 0;
  for (size_t pos = 0; pos < text->size();) {
    size_t end = std::min(text->find('\n', pos), text->size());
    std::string line = text->substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Case c;
    int64_t received = 0;
    if (!ParseCase(line, &c)) {
      std::fprintf(err,
                   "%s:%zu: a case is {\"topic\", \"payload\" or \"payload_hex\", "
                   "\"expect\"}\n",
                   o.cases.c_str(), line_no);
      return 2;
    }
    if (!ReceivedMs(c.received, now_ms, &received, err)) return 2;
    std::vector<Normalized> records;
    DeadLetterReason reason;
    Outcome outcome = RunOne(n, {c.topic, c.payload, received}, &records, &reason);
    std::vector<std::string> diffs = DiffCase(c.expect, outcome, records, reason.text);
    if (diffs.empty()) {
      ++passed;
      continue;
    }
    ++failed;
    std::fprintf(out, "FAIL %s:%zu %s (topic %s)\n", o.cases.c_str(), line_no, c.name.c_str(),
                 c.topic.c_str());
    for (const std::string& d : diffs) std::fprintf(out, "  %s\n", d.c_str());
  }
  std::fprintf(out, "%zu passed, %zu failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace ferry::agent
