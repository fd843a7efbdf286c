// Pinning a transform's code: the SHA-256 of the file its config names.
#pragma once

#include <string>

#include "agent/config/config.h"
#include "platform/status.h"

namespace ferry::agent {

// The file `sha256` pins: `file`, else the last element of `command` ("" when it is empty).
std::string PinnedFile(const TransformConfig& transform);

// The SHA-256 of the file's bytes as 64 lower-case hex digits. kNotFound or kIoError (from
// platform::ReadFile) when it cannot be read.
platform::Result<std::string> Sha256OfFile(const std::string& path);

}  // namespace ferry::agent
