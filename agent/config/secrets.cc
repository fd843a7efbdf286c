#include "agent/config/config.h"
#include "platform/file.h"

namespace ferry::agent {

namespace {

platform::Status ReadSecret(const char* key, const std::string& path, std::string* secret,
                            const char* inline_key) {
  if (path.empty()) return platform::Status::Ok();
  if (!secret->empty()) {
    return platform::Status::InvalidArgument(std::string(key) + ": set either this or " +
                                             inline_key + ", not both");
  }
  platform::Result<std::string> text = platform::ReadFile(path);
  if (!text.ok()) {
    return platform::Status::InvalidArgument(std::string(key) + ": " + text.status().message());
  }
  std::string_view t = *text;
  while (!t.empty() && isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  while (!t.empty() && isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  if (t.empty())
    return platform::Status::InvalidArgument(std::string(key) + ": " + path + " is empty");
  *secret = std::string(t);
  return platform::Status::Ok();
}

}  // namespace

platform::Status ResolveSecrets(Config* config) {
  FERRY_RETURN_IF_ERROR(ReadSecret("/upstream/token_file", config->upstream.token_file,
                                   &config->upstream.token, "/upstream/token"));
  return ReadSecret("/mqtt/password_file", config->mqtt.password_file, &config->mqtt.password,
                    "/mqtt/password");
}

}  // namespace ferry::agent
