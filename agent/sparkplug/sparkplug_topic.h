// Sparkplug B topics: spBv1.0/<group>/<type>/<node>[/<device>]. Pure functions.
#pragma once

#include <optional>
#include <string_view>

namespace ferry::agent {

inline constexpr std::string_view kSparkplugNamespace = "spBv1.0";

enum class SparkplugKind { kBirth, kData, kDeath, kCommand };

struct SparkplugTopic {
  std::string_view group, type, node, device;  // device empty for node messages
  SparkplugKind kind = SparkplugKind::kData;
};

// True for a topic in the spBv1.0 namespace whose payload is protobuf (everything but the
// STATE messages of host applications, spBv1.0/STATE/<host>, which are JSON).
bool IsSparkplugTopic(std::string_view topic);

// The parts of an NBIRTH, NDATA, NDEATH, NCMD (4 levels) or DBIRTH, DDATA, DDEATH, DCMD
// (5 levels) topic; nullopt for anything else (another namespace, an unknown type, a node
// message with a device or a device message without one, an empty level).
std::optional<SparkplugTopic> ParseSparkplugTopic(std::string_view topic);

}  // namespace ferry::agent
