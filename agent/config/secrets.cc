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

platform::Status Invalid(const std::string& key, const std::string& why) {
  return platform::Status::InvalidArgument(key + ": " + why);
}

// A PEM file named by a TLS key must be readable and hold PEM text; found now, not at the
// first connection hours later.
platform::Status CheckPemFile(const std::string& key, const std::string& path) {
  if (path.empty()) return platform::Status::Ok();
  platform::Result<std::string> text = platform::ReadFile(path);
  if (!text.ok()) return Invalid(key, text.status().message());
  if (text->find("-----BEGIN ") == std::string::npos) {
    return Invalid(key, path + " is not a PEM file (no \"-----BEGIN\" line)");
  }
  return platform::Status::Ok();
}

platform::Status CheckTlsFiles(const std::string& prefix, const TlsOptions& tls) {
  FERRY_RETURN_IF_ERROR(CheckPemFile(prefix + "/ca_file", tls.ca_file));
  FERRY_RETURN_IF_ERROR(CheckPemFile(prefix + "/cert_file", tls.cert_file));
  FERRY_RETURN_IF_ERROR(CheckPemFile(prefix + "/key_file", tls.key_file));
  if (!tls.ca_dir.empty() && !platform::IsDirectory(tls.ca_dir)) {
    return Invalid(prefix + "/ca_dir", tls.ca_dir + " is not a readable directory");
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    const char* missing = tls.cert_file.empty() ? "/cert_file" : "/key_file";
    return Invalid(prefix + missing, "mutual TLS needs both cert_file and key_file");
  }
  return platform::Status::Ok();
}

}  // namespace

platform::Status ResolveSecrets(Config* config) {
  FERRY_RETURN_IF_ERROR(CheckTlsFiles("/mqtt/tls", config->mqtt.tls));
  FERRY_RETURN_IF_ERROR(CheckTlsFiles("/upstream/tls", config->upstream.tls));
  FERRY_RETURN_IF_ERROR(ReadSecret("/upstream/token_file", config->upstream.token_file,
                                   &config->upstream.token, "/upstream/token"));
  return ReadSecret("/mqtt/password_file", config->mqtt.password_file, &config->mqtt.password,
                    "/mqtt/password");
}

}  // namespace ferry::agent
