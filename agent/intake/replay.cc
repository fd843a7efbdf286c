#include "agent/intake/replay.h"

#include <map>
#include <string>
#include <vector>

#include "agent/record/record.h"

namespace ferry::agent {

using platform::Result;
using platform::Status;

namespace {

constexpr int kPage = 500;

// One page of dead letters turned into one append.
class ReplayGroup {
 public:
  ReplayGroup(const Config& config, const Normalizer& normalizer, const TransformSet* transforms,
              platform::Clock& clock)
      : config_(config), normalizer_(normalizer), transforms_(transforms), clock_(clock) {}

  void Add(const storage::DeadLetter& d, ReplayResult* result) {
    ids_.push_back(d.id);
    if (d.seq) {
      auto line = nlohmann::ordered_json::parse(d.payload, nullptr, false);
      if (line.is_object()) {
        refused_.push_back(std::move(line));
        return;
      }
    }
    Normalized n;
    DeadLetterReason reason;
    std::vector<Normalized> more;
    Outcome outcome =
        normalizer_.Normalize({d.topic, d.payload, d.received_ms}, &n, &reason, &more);
    TransformRunner* runner = transforms_ ? transforms_->ForRoute(n.route) : nullptr;
    if (outcome == Outcome::kRecord && runner != nullptr) {
      Held& held = held_[runner];
      held.letters.push_back(&d);
      TransformItem& item = held.items.emplace_back();
      item.topic = d.topic;
      item.payload = d.payload;
      item.received_ms = d.received_ms;
      item.input.push_back(std::move(n));
      for (Normalized& m : more) item.input.push_back(std::move(m));
    } else if (outcome == Outcome::kRecord) {
      records_.push_back({std::move(n), d.topic, d.received_ms, {}, {}});
      for (Normalized& m : more) records_.push_back({std::move(m), d.topic, d.received_ms, {}, {}});
    } else if (outcome == Outcome::kIgnored) {
      ++result->ignored;
    } else {
      reasons_.push_back(std::move(reason.text));
      dead_.push_back({{}, d.topic, d.payload, d.received_ms});
    }
  }

  // The page's messages for each transform go to it as one batch.
  void RunTransforms() {
    for (auto& [runner, held] : held_) {
      runner->Run(held.items);
      for (size_t i = 0; i < held.items.size(); ++i) {
        TransformItem& item = held.items[i];
        const storage::DeadLetter& d = *held.letters[i];
        if (!item.error.empty()) {
          reasons_.push_back(std::move(item.error));
          dead_.push_back({{}, d.topic, d.payload, d.received_ms});
          continue;
        }
        for (Normalized& r : item.records) {
          records_.push_back({std::move(r), d.topic, d.received_ms, runner->config().name,
                              transforms_->PinOf(runner)});
        }
      }
    }
  }

  Status Append(storage::Queue& queue, ReplayResult* result) {
    RunTransforms();
    for (size_t i = 0; i < dead_.size(); ++i) dead_[i].reason = reasons_[i];
    storage::AppendRequest req;
    req.count = static_cast<uint32_t>(records_.size() + refused_.size());
    req.oldest_received_ms = records_.empty() ? 0 : records_[0].received_ms;
    // Aged for storage.max_age from now: left at 0, the group's age would be the uptime.
    req.oldest_received_mono_ms = clock_.MonotonicMillis();
    req.dead_letters = dead_;
    req.replayed_dead_letters = ids_;
    const std::string& epoch = queue.epoch();
    req.encode = [&](uint64_t first_seq, std::string& out) { Encode(epoch, first_seq, out); };
    std::vector<storage::SparkplugMetricRow> learnt = normalizer_.sparkplug_state().TakePending();
    req.sparkplug_metrics = learnt;
    Result<storage::AppendResult> appended = queue.Append(req);
    if (!appended.ok()) normalizer_.sparkplug_state().Restore(std::move(learnt));
    if (!appended.ok()) return appended.status();
    result->replayed += ids_.size();
    result->records += req.count;
    result->dead_again += dead_.size();
    return Status::Ok();
  }

 private:
  struct Pending {
    Normalized normalized;
    std::string topic;
    int64_t received_ms;
    std::string_view transform;  // the transform that made it; "": none
    std::string_view transform_sha256;
  };
  struct Held {
    std::vector<TransformItem> items;
    std::vector<const storage::DeadLetter*> letters;
  };

  void Encode(const std::string& epoch, uint64_t seq, std::string& out) {
    for (const Pending& p : records_) {
      RecordEnvelope env;
      env.gateway = config_.gateway.id;
      env.epoch = epoch;
      env.seq = seq++;
      env.topic = p.topic;
      env.device = p.normalized.device;
      env.ts_ms = p.normalized.ts_ms;
      env.ts_from_payload = p.normalized.ts_from_payload;
      env.received_ms = p.received_ms;
      env.gateway_labels = &config_.gateway.labels;
      env.route_labels = &p.normalized.labels;
      env.data = &p.normalized.data;
      env.transform = p.transform;
      env.transform_sha256 = p.transform_sha256;
      AppendRecordLine(env, out);
    }
    for (nlohmann::ordered_json& line : refused_) {
      line["id"] = RecordId(config_.gateway.id, epoch, seq);
      line["seq"] = seq++;
      line["gateway"] = config_.gateway.id;
      out += line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
      out += '\n';
    }
  }

  const Config& config_;
  const Normalizer& normalizer_;
  const TransformSet* transforms_;
  platform::Clock& clock_;
  std::map<TransformRunner*, Held> held_;
  std::vector<int64_t> ids_;
  std::vector<Pending> records_;
  std::vector<nlohmann::ordered_json> refused_;
  std::vector<std::string> reasons_;
  std::vector<storage::DeadLetterInput> dead_;
};

Status ReplayPage(const Config& config, const Normalizer& normalizer,
                  const TransformSet* transforms, storage::Queue& queue, platform::Clock& clock,
                  const std::vector<storage::DeadLetter>& page, ReplayResult* result) {
  ReplayGroup group(config, normalizer, transforms, clock);
  for (const storage::DeadLetter& d : page) group.Add(d, result);
  return group.Append(queue, result);
}

}  // namespace

Result<ReplayResult> ReplayDeadLetters(const Config& config, const Normalizer& normalizer,
                                       storage::Queue& queue, Metrics& metrics,
                                       platform::Clock& clock, std::span<const int64_t> ids,
                                       const TransformSet* transforms) {
  ReplayResult result;
  std::vector<int64_t> all;
  if (ids.empty()) {
    // Everything in the store now; letters that fail again come back with new ids and are
    // not replayed a second time in this call.
    for (int64_t after = 0;;) {
      auto page = queue.ListDeadLetters(after, kPage);
      if (!page.ok()) return page.status();
      if (page->empty()) break;
      for (const auto& d : *page) all.push_back(d.id);
      after = page->back().id;
    }
    ids = all;
  }
  for (size_t i = 0; i < ids.size(); i += kPage) {
    auto page = queue.GetDeadLetters(ids.subspan(i, std::min<size_t>(kPage, ids.size() - i)));
    if (!page.ok()) return page.status();
    if (page->empty()) continue;
    FERRY_RETURN_IF_ERROR(ReplayPage(config, normalizer, transforms, queue, clock, *page, &result));
  }
  metrics.records_stored += result.records;
  metrics.dead_letters_replayed += result.replayed;
  return result;
}

}  // namespace ferry::agent
