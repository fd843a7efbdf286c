// Normalizer micro-benchmark: messages per second on one core for each device family of
// ../shared/data/devices (and tests/fixtures/devices for the families kept in this repository)
// through its example config, against just parsing the same payloads with nlohmann::json in
// the same run (the floor any JSON normalizer pays). Records per second differ from messages
// per second where a route explodes a message into several records. "with line" adds what the
// intake does next with each record: writing its line (AppendRecordBody) into one buffer per pass.
//
// Usage: ferry-normalize-bench [--runs N] [--min-ms MS] [--passes P] [--only FAMILY]
//                              [SOURCE_DIR [DEVICES_DIR]]
// Prints a Markdown table: medians of N runs (default 5); each run times at least MS
// milliseconds (default 300) of each side, normalize and parse interleaved. --passes P: exactly
// P passes over each family's messages instead (for instruction counts under callgrind:
// `valgrind --tool=callgrind ferry-normalize-bench --runs 1 --passes 20 --only zigbee2mqtt`).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/config/config.h"
#include "agent/normalize/normalizer.h"
#include "agent/record/record.h"

namespace {

using ferry::agent::DeadLetterReason;
using ferry::agent::Normalizer;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

const char* const kFamilies[] = {"zigbee2mqtt", "tasmota",     "shelly_gen1", "shelly_gen2",
                                 "ttn_v3",      "owntracks",   "esphome",     "telegraf",
                                 "rtl_433",     "neuron",      "edgex",       "chirpstack_v3",
                                 "victron",     "theengs_ble", "frigate"};
// Kept in tests/fixtures/devices rather than ../shared/data/devices.
bool InFixtures(const std::string& family) {
  return family == "rtl_433" || family == "neuron" || family == "edgex" ||
         family == "chirpstack_v3" || family == "victron" || family == "theengs_ble" ||
         family == "frigate";
}

struct Msg {
  std::string topic;
  std::string payload;
};

std::vector<Msg> LoadMessages(const std::string& path) {
  std::vector<Msg> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    json v = json::parse(line, nullptr, false);
    if (!v.is_object() || !v["topic"].is_string() || !v["payload"].is_string()) continue;
    out.push_back({v["topic"].get<std::string>(), v["payload"].get<std::string>()});
  }
  return out;
}

// With --passes: that many passes over each set, whatever the time (for callgrind).
int g_passes = 0;

// Seconds per message of `body` over `msgs`, repeating the set for at least `min_ms`.
// Not inlined, so callgrind reports each side's inclusive cost under its own name.
template <typename Body>
[[gnu::noinline]] double SecondsPerMessage(const std::vector<Msg>& msgs, int64_t min_ms,
                                           Body body) {
  size_t done = 0;
  auto start = Clock::now();
  auto deadline = start + std::chrono::milliseconds(min_ms);
  do {
    for (const Msg& m : msgs) body(m);
    done += msgs.size();
  } while (g_passes > 0 ? done < msgs.size() * g_passes : Clock::now() < deadline);
  return std::chrono::duration<double>(Clock::now() - start).count() / static_cast<double>(done);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Sparkplug DDATA against JSON with the same metrics (issue 11: a DDATA must cost no more).
std::string Varint(uint64_t v) {
  std::string out;
  for (; v >= 0x80; v >>= 7) out += static_cast<char>((v & 0x7f) | 0x80);
  return out + static_cast<char>(v);
}
std::string Field(int n, uint64_t v) { return Varint(uint64_t(n) << 3) + Varint(v); }
std::string Bytes(int n, const std::string& b) {
  return Varint((uint64_t(n) << 3) | 2) + Varint(b.size()) + b;
}
std::string Double(int n, double v) {
  std::string out = Varint((uint64_t(n) << 3) | 1);
  out.append(reinterpret_cast<const char*>(&v), 8);  // little-endian hosts
  return out;
}

// One DBIRTH defining `metrics` Double metrics "metric_<i>" with aliases, then DDATA messages
// naming them by alias only (as edge nodes send them), and the same readings as JSON objects.
void SparkplugAgainstJson(int runs, int64_t min_ms) {
  std::printf(
      "\n| metrics per message | Sparkplug DDATA msg/s | JSON msg/s | DDATA cost / JSON cost |\n");
  std::printf("|---:|---:|---:|---:|\n");
  for (int metrics : {1, 10, 50}) {
    std::string birth = Field(1, 1'795'256'000'000);
    for (int i = 0; i < metrics; ++i) {
      birth += Bytes(
          2, Bytes(1, "metric_" + std::to_string(i)) + Field(2, i) + Field(4, 10) + Double(13, 0));
    }
    Normalizer sparkplug({});
    ferry::agent::Normalized out;
    DeadLetterReason reason;
    sparkplug.Normalize({"spBv1.0/g/DBIRTH/n/d", birth, 1'795'256'100'000}, &out, &reason);
    std::vector<Msg> ddata, json_msgs;
    for (int k = 0; k < 16; ++k) {
      std::string p = Field(1, 1'795'256'000'000 + k);
      json j = json::object();
      for (int i = 0; i < metrics; ++i) {
        p += Bytes(2, Field(2, i) + Double(13, 20.0 + k + i / 8.0));
        j["metric_" + std::to_string(i)] = 20.0 + k + i / 8.0;
      }
      p += Field(3, k);
      j["timestamp"] = 1'795'256'000'000 + k;
      j["seq"] = k;
      ddata.push_back({"spBv1.0/g/DDATA/n/d", p});
      json_msgs.push_back({"plant/g/n/d", j.dump()});
    }
    ferry::agent::Route route;
    route.topic = "plant/{device}/#";
    route.time.field = "timestamp";
    route.time.format = ferry::agent::TimeFormat::kEpochMs;
    Normalizer json_rules({route});
    auto per_s = [&](const Normalizer& n, const std::vector<Msg>& msgs) {
      return 1.0 / SecondsPerMessage(msgs, min_ms, [&](const Msg& m) {
               ferry::agent::Normalized o;
               DeadLetterReason why;
               n.Normalize({m.topic, m.payload, 1'795'256'100'000}, &o, &why);
             });
    };
    std::vector<double> spb, js;
    for (int r = 0; r < runs; ++r) {
      spb.push_back(per_s(sparkplug, ddata));
      js.push_back(per_s(json_rules, json_msgs));
    }
    double a = Median(spb), b = Median(js);
    std::printf("| %d | %.0f | %.0f | %.2fx |\n", metrics, a, b, b / a);
    std::fflush(stdout);
  }
}

struct Row {
  std::string family;
  size_t messages;
  size_t records;  // per pass over the messages
  double normalize_per_s;
  double line_per_s;  // normalize and write each record's line
  double parse_per_s;
};

Row Measure(const std::string& family, const std::vector<Msg>& msgs, const Normalizer& n, int runs,
            int64_t min_ms) {
  int64_t sink = 0;
  size_t records = 0;
  std::vector<ferry::agent::Normalized> more;  // as the intake does: kept between messages
  auto normalize = [&](const Msg& m) {
    ferry::agent::Normalized out;  // as the intake does: a fresh record per message
    DeadLetterReason reason;
    auto outcome = n.Normalize({m.topic, m.payload, 1'795'256'100'000}, &out, &reason, &more);
    sink += static_cast<int>(outcome);
    if (outcome == ferry::agent::Outcome::kRecord) records += 1 + more.size();
  };
  for (const Msg& m : msgs) normalize(m);
  size_t per_pass = records;
  static const std::map<std::string, std::string> kGatewayLabels = {{"site", "bench"}};
  std::string lines;
  auto append = [&](const Msg& m, const ferry::agent::Normalized& r) {
    ferry::agent::RecordEnvelope env;
    env.gateway = "gw-bench";
    env.topic = m.topic;
    env.device = r.device;
    env.ts_ms = r.ts_ms;
    env.ts_from_payload = r.ts_from_payload;
    env.received_ms = 1'795'256'100'000;
    env.gateway_labels = &kGatewayLabels;
    env.route_labels = &r.labels;
    env.data = &r.data;
    ferry::agent::AppendRecordBody(env, lines);
  };
  auto normalize_line = [&](const Msg& m) {
    if (&m == &msgs.front()) lines.clear();
    ferry::agent::Normalized out;
    DeadLetterReason reason;
    auto outcome = n.Normalize({m.topic, m.payload, 1'795'256'100'000}, &out, &reason, &more);
    if (outcome != ferry::agent::Outcome::kRecord) return;
    append(m, out);
    for (const ferry::agent::Normalized& r : more) append(m, r);
  };
  auto parse = [&](const Msg& m) {
    json v = json::parse(m.payload, nullptr, /*allow_exceptions=*/false);
    sink += static_cast<int>(v.type());
  };
  std::vector<double> norm_s, line_s, parse_s;
  for (int r = 0; r < runs; ++r) {
    norm_s.push_back(SecondsPerMessage(msgs, min_ms, normalize));
    line_s.push_back(SecondsPerMessage(msgs, min_ms, normalize_line));
    parse_s.push_back(SecondsPerMessage(msgs, min_ms, parse));
  }
  if (sink == 42 || lines.size() == 1) std::puts("");  // keeps the work observable
  return {
      family, msgs.size(), per_pass, 1 / Median(norm_s), 1 / Median(line_s), 1 / Median(parse_s)};
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  int64_t min_ms = 300;
  std::string only;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else if (arg == "--passes" && i + 1 < argc) {
      g_passes = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--min-ms" && i + 1 < argc) {
      min_ms = std::max(1, std::atoi(argv[++i]));
    } else {
      dirs.push_back(arg);
    }
  }
  std::string source = dirs.size() > 0 ? dirs[0] : FERRY_SOURCE_DIR;
  std::string devices = dirs.size() > 1 ? dirs[1] : source + "/../shared/data/devices";
  std::printf(
      "| family | messages | records | normalize msg/s | records/s | with line msg/s | "
      "parse-only msg/s | normalize / parse | with line / parse |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const char* family : kFamilies) {
    if (!only.empty() && only != family) continue;
    auto config = ferry::agent::LoadConfig(source + "/config/examples/" + family + ".json");
    if (!config.ok()) {
      std::fprintf(stderr, "%s\n", config.status().message().c_str());
      return 1;
    }
    std::string folder = InFixtures(family) ? source + "/tests/fixtures/devices" : devices;
    std::vector<Msg> msgs = LoadMessages(folder + "/" + family + ".ndjson");
    Row row = Measure(family, msgs, Normalizer(config->routes), runs, min_ms);
    double records_per_s = row.normalize_per_s * static_cast<double>(row.records) /
                           static_cast<double>(std::max<size_t>(row.messages, 1));
    std::printf("| %s | %zu | %zu | %.0f | %.0f | %.0f | %.0f | %.2fx | %.2fx |\n",
                row.family.c_str(), row.messages, row.records, row.normalize_per_s, records_per_s,
                row.line_per_s, row.parse_per_s, row.parse_per_s / row.normalize_per_s,
                row.parse_per_s / row.line_per_s);
    std::fflush(stdout);
  }
  if (only.empty() || only == "sparkplug") SparkplugAgainstJson(runs, min_ms);
  return 0;
}
