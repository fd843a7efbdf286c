// libFuzzer target over the normalizer and the record encoder.
//
// Input: one byte choosing the rules (an example config of config/examples, or the default
// rule), the topic up to the first '\n', then the payload (any bytes). Each run normalizes
// the message and, for a record, encodes its line and parses it back: the line must be one
// JSON object. Any crash, sanitizer report, hang or thrown exception is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/config/config.h"
#include "agent/normalize/normalizer.h"
#include "agent/record/record.h"

#ifndef FERRY_SOURCE_DIR
#define FERRY_SOURCE_DIR "."
#endif

namespace {

using ferry::agent::Normalizer;

constexpr const char* kFamilies[] = {"zigbee2mqtt", "tasmota",   "shelly_gen1", "shelly_gen2",
                                     "ttn_v3",      "owntracks", "esphome",     "telegraf",
                                     "rtl_433",     "neuron",    "edgex",       "chirpstack_v3",
                                     "sparkplug",   "victron",   "theengs_ble", "frigate"};
constexpr int64_t kReceivedMs = 1'795'256'100'000;  // 2026-11-21T10:15:00.000Z

std::vector<std::unique_ptr<Normalizer>> LoadNormalizers() {
  std::vector<std::unique_ptr<Normalizer>> out;
  for (const char* family : kFamilies) {
    std::string path = std::string(FERRY_SOURCE_DIR) + "/config/examples/" + family + ".json";
    auto config = ferry::agent::LoadConfig(path);
    if (!config.ok()) {
      std::fprintf(stderr, "%s\n", config.status().message().c_str());
      std::abort();
    }
    out.push_back(std::make_unique<Normalizer>(config->routes));
  }
  out.push_back(std::make_unique<Normalizer>(std::vector<ferry::agent::Route>{}));
  return out;
}

void CheckRecordLine(std::string_view topic, const ferry::agent::Normalized& out) {
  std::string line;
  ferry::agent::AppendRecordLine({.gateway = "gw",
                                  .epoch = "1",
                                  .seq = 1,
                                  .topic = topic,
                                  .device = out.device,
                                  .ts_ms = out.ts_ms,
                                  .ts_from_payload = out.ts_from_payload,
                                  .received_ms = kReceivedMs,
                                  .route_labels = &out.labels,
                                  .data = &out.data},
                                 line);
  if (line.empty() || line.back() != '\n' ||
      !nlohmann::json::parse(line, nullptr, false).is_object()) {
    std::fprintf(stderr, "record line is not one JSON object: %s\n", line.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* normalizers = new std::vector<std::unique_ptr<Normalizer>>(LoadNormalizers());
  if (size == 0) return 0;
  const Normalizer& n = *(*normalizers)[data[0] % normalizers->size()];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t newline = rest.find('\n');
  std::string_view topic = newline == std::string_view::npos ? rest : rest.substr(0, newline);
  std::string_view payload =
      newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
  ferry::agent::Normalized out;
  std::vector<ferry::agent::Normalized> more;  // an explode route's further records
  ferry::agent::DeadLetterReason reason;
  ferry::agent::Outcome outcome = n.Normalize({topic, payload, kReceivedMs}, &out, &reason, &more);
  if (outcome == ferry::agent::Outcome::kDeadLetter && reason.text.empty()) {
    std::fprintf(stderr, "dead letter without a reason\n");
    std::abort();
  }
  if (outcome == ferry::agent::Outcome::kRecord) {
    if (!out.data.is_object()) std::abort();
    CheckRecordLine(topic, out);
    for (const ferry::agent::Normalized& m : more) {
      if (!m.data.is_object()) std::abort();
      CheckRecordLine(topic, m);
    }
  }
  return 0;
}
