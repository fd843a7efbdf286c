#include "agent/s3/credentials.h"

#include "platform/file.h"
#include "platform/process.h"

namespace ferry::s3 {
namespace {

using platform::Status;

std::string_view TrimSpace(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string Credentials::Describe() const {
  std::string id = access_key_id.size() > 8 ? access_key_id.substr(0, 4) + "..." +
                                                  access_key_id.substr(access_key_id.size() - 4)
                                            : access_key_id;
  return "access key " + id + (session_token.empty() ? "" : " (with a session token)");
}

platform::Result<Credentials> ParseCredentialsText(std::string_view text) {
  // Profiles: "" (lines before any section), "default", others. The default wins, then a
  // section-less block, then the only profile there is.
  std::map<std::string, std::map<std::string, std::string>> profiles;
  std::string section;
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = TrimSpace(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') {
        return Status::InvalidArgument("line " + std::to_string(line_no) + ": unclosed [section]");
      }
      section = std::string(TrimSpace(line.substr(1, line.size() - 2)));
      if (section.rfind("profile ", 0) == 0) section = std::string(TrimSpace(section.substr(8)));
      profiles[section];
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument("line " + std::to_string(line_no) + ": expected key = value");
    }
    std::string key(TrimSpace(line.substr(0, eq)));
    profiles[section][key] = std::string(TrimSpace(line.substr(eq + 1)));
  }
  const std::map<std::string, std::string>* chosen = nullptr;
  if (profiles.count("default")) {
    chosen = &profiles["default"];
  } else if (profiles.count("") && !profiles[""].empty()) {
    chosen = &profiles[""];
  } else if (profiles.size() == 1) {
    chosen = &profiles.begin()->second;
  }
  if (chosen == nullptr) {
    return Status::InvalidArgument("no [default] profile (and not exactly one profile)");
  }
  Credentials c;
  auto get = [&](const char* k) {
    auto it = chosen->find(k);
    return it == chosen->end() ? std::string() : it->second;
  };
  c.access_key_id = get("aws_access_key_id");
  c.secret_access_key = get("aws_secret_access_key");
  c.session_token = get("aws_session_token");
  if (c.access_key_id.empty()) return Status::InvalidArgument("aws_access_key_id missing or empty");
  if (c.secret_access_key.empty()) {
    return Status::InvalidArgument("aws_secret_access_key missing or empty");
  }
  return c;
}

platform::Result<Credentials> LoadCredentialsFile(const std::string& path) {
  auto mode = platform::FileMode(path);
  if (!mode.ok()) return mode.status().WithContext("S3 credentials file");
  if ((*mode & 077) != 0) {
    return Status::InvalidArgument("S3 credentials file " + path +
                                   " may be read or written by group or others: chmod 600 it");
  }
  auto text = platform::ReadFile(path);
  if (!text.ok()) return text.status().WithContext("S3 credentials file");
  auto parsed = ParseCredentialsText(*text);
  if (!parsed.ok()) return parsed.status().WithContext("S3 credentials file " + path);
  return parsed;
}

platform::Result<Credentials> CredentialsFromEnv(const std::map<std::string, std::string>& env) {
  auto get = [&](const char* k) {
    auto it = env.find(k);
    return it == env.end() ? std::string() : std::string(TrimSpace(it->second));
  };
  Credentials c;
  c.access_key_id = get("AWS_ACCESS_KEY_ID");
  c.secret_access_key = get("AWS_SECRET_ACCESS_KEY");
  c.session_token = get("AWS_SESSION_TOKEN");
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return Status::NotFound(
        "no S3 credentials: set a credentials file, or AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY in the environment");
  }
  return c;
}

std::map<std::string, std::string> AwsEnvironment() {
  std::map<std::string, std::string> env;
  for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}) {
    std::string value = platform::GetEnv(name);
    if (!value.empty()) env[name] = value;
  }
  return env;
}

Status CredentialsSource::Load() {
  auto loaded = file_.empty() ? CredentialsFromEnv(AwsEnvironment()) : LoadCredentialsFile(file_);
  if (!loaded.ok()) return loaded.status();
  std::lock_guard<std::mutex> lock(mu_);
  current_ = std::move(loaded).value();
  return Status::Ok();
}

Credentials CredentialsSource::Get() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

}  // namespace ferry::s3
