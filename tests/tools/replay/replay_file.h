// Device messages for ferry-pub: the NDJSON files of shared/data/devices (topic, payload or
// payload_hex, and the `generator` lines of nasty.ndjson, expanded), read into memory.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::tools {

struct Message {
  std::string topic;
  std::string payload;
};

// "0aff" to its bytes; nullopt for odd lengths or non-hex digits.
std::optional<std::string> DecodeHex(std::string_view hex);

// mosquitto 2.0 drops the connection of a client that publishes to a topic of more than 201
// levels; libmosquitto would then resend the message after every reconnect, for ever.
bool BrokerTakesTopic(std::string_view topic);

// Appends every publishable line of `path` to `out`; lines that cannot be published are
// reported on stderr and skipped. Prints "replay: N lines, M messages, skipped K". False if
// the file cannot be opened.
bool LoadReplay(const std::string& path, std::vector<Message>* out);

}  // namespace ferry::tools
