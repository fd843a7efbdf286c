// `ferry status`: a person's view of a running agent's /status.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ferry::agent {

// Formats the /status JSON as a few aligned lines; tolerates missing keys.
std::string FormatStatusForPerson(const nlohmann::json& status);

// Fetches `url` + "/status" and formats it. Returns the process exit code (0 ok, 1 failure) and
// writes the text or the error to `out`.
int PrintStatus(const std::string& url, std::string* out);

}  // namespace ferry::agent
