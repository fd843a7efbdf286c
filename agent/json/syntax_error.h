// Where and why nlohmann/json's parser rejects a text, without exceptions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ferry::agent {

struct JsonSyntaxError {
  size_t byte = 0;     // where the parser stopped, as nlohmann counts it (the byte after)
  std::string detail;  // its message without "[json.exception...] parse error at ...: "
};

// Run only after a parse failed, to say why. `ignore_comments` as in json::parse.
JsonSyntaxError FindJsonSyntaxError(std::string_view text, bool ignore_comments = false);

}  // namespace ferry::agent
