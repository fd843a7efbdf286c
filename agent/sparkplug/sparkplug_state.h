// What Sparkplug B BIRTH messages defined, per edge node and device: each metric's name, alias
// and datatype. DATA messages may name a metric only by its alias and usually leave out its
// datatype; this table resolves both. It outlives config reloads (the agent owns it) and is
// kept with the queue: what a BIRTH taught is handed to intake (TakePending) and written in
// the transaction of that message's group (storage::AppendRequest::sparkplug_metrics).
//
// Thread-safe: one mutex; intake, replay and `ferry normalize` may share one table.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/sparkplug/sparkplug_payload.h"
#include "storage/queue.h"

namespace ferry::agent {

class SparkplugState {
 public:
  // Metrics kept at most, over all scopes; a BIRTH that would pass it is refused.
  static constexpr size_t kMaxMetrics = 100'000;

  // Adds rows read from the queue (at start).
  void Load(const std::vector<storage::SparkplugMetricRow>& rows);
  // A BIRTH of `scope` ("group/node" or "group/node/device"): learns each named metric's alias
  // and datatype. False, with `*reason` ("sparkplug: more than 100000 metrics defined"), when
  // the table is full; nothing is learnt then.
  bool Learn(const std::string& scope, const std::vector<SparkplugMetric>& metrics,
             std::string* reason);
  // A DATA, DEATH or command of `scope`: each metric without a name gets the name of its alias,
  // and a metric without a datatype the one its BIRTH gave (its value retyped). False, with
  // `*reason` = "sparkplug: unknown alias N in <scope> (no BIRTH defined it)", for an alias no
  // BIRTH defined; the metrics are then unspecified.
  bool Resolve(const std::string& scope, std::vector<SparkplugMetric>* metrics,
               std::string* reason) const;

  // What Learn taught since the last call, to store with the current group.
  std::vector<storage::SparkplugMetricRow> TakePending();
  // Gives back rows TakePending returned whose commit failed, to go with the next group.
  void Restore(std::vector<storage::SparkplugMetricRow> rows);
  size_t size() const;

 private:
  struct Scope {
    struct Defined {
      std::string name;
      uint32_t datatype = 0;
    };
    std::unordered_map<uint64_t, Defined> names;          // by alias
    std::unordered_map<std::string, uint32_t> datatypes;  // by name
  };
  void Put(const storage::SparkplugMetricRow& row);  // under mu_

  mutable std::mutex mu_;
  std::unordered_map<std::string, Scope> scopes_;
  size_t metrics_ = 0;
  std::vector<storage::SparkplugMetricRow> pending_;
};

}  // namespace ferry::agent
