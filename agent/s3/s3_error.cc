#include "agent/s3/s3_error.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ferry::s3 {
namespace {

// The text of the first <tag>...</tag> in `xml`, "" if absent. S3's error documents are flat
// and never nest an element in itself, so no XML parser is needed.
std::string Element(std::string_view xml, std::string_view tag) {
  std::string open = "<" + std::string(tag) + ">";
  std::string close = "</" + std::string(tag) + ">";
  size_t start = xml.find(open);
  if (start == std::string_view::npos) return "";
  start += open.size();
  size_t end = xml.find(close, start);
  if (end == std::string_view::npos || end - start > 1024) return "";
  return std::string(xml.substr(start, end - start));
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool ToUnix(int y, unsigned mo, unsigned d, int h, int mi, int s, int64_t* out) {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return false;
  *out = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
  return true;
}

std::string Plural(int64_t n, const char* unit) {
  return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
}

std::string SkewWords(int64_t skew_s) {
  int64_t a = skew_s < 0 ? -skew_s : skew_s;
  std::string amount = a >= 7200  ? Plural(a / 3600, "hour")
                       : a >= 120 ? Plural(a / 60, "minute")
                                  : Plural(a, "second");
  return amount + (skew_s < 0 ? " behind" : " ahead of");
}

}  // namespace

void ParseErrorBody(std::string_view xml, S3Response* out) {
  if (xml.find("<Error>") == std::string_view::npos) return;
  out->code = Element(xml, "Code");
  out->message = Element(xml, "Message");
  out->server_time = Element(xml, "ServerTime");
}

S3Problem Classify(const S3Response& r) {
  const std::string& c = r.code;
  if (r.status >= 200 && r.status < 300) return S3Problem::kNone;
  if (r.status == 0 || r.status >= 500 || r.status == 408 || r.status == 429) {
    return S3Problem::kRetry;
  }
  if (c == "RequestTimeout" || c == "SlowDown" || c == "InternalError") return S3Problem::kRetry;
  if (c == "RequestTimeTooSkewed") return S3Problem::kClockSkew;
  if (c == "NoSuchBucket") return S3Problem::kNoBucket;
  if (r.status == 413 || c == "EntityTooLarge") return S3Problem::kTooLarge;
  if (r.status == 401 || r.status == 403 || c == "InvalidAccessKeyId" ||
      c == "SignatureDoesNotMatch" || c == "ExpiredToken" || c == "InvalidToken") {
    return S3Problem::kAuth;
  }
  return S3Problem::kConfig;
}

const char* ProblemName(S3Problem p) {
  switch (p) {
    case S3Problem::kNone:
      return "none";
    case S3Problem::kRetry:
      return "retry";
    case S3Problem::kAuth:
      return "auth_failed";
    case S3Problem::kClockSkew:
      return "clock_skew";
    case S3Problem::kNoBucket:
      return "no_such_bucket";
    case S3Problem::kTooLarge:
      return "too_large";
    case S3Problem::kConfig:
      return "config_error";
  }
  return "unknown";
}

bool ParseS3Time(std::string_view t, int64_t* unix_s) {
  std::string s(t);
  int y = 0, h = 0, mi = 0, sec = 0;
  unsigned mo = 0, d = 0;
  int n = 0;
  if (sscanf(s.c_str(), "%4d-%2u-%2uT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) == 6 &&
      n >= 19) {
    return ToUnix(y, mo, d, h, mi, sec, unix_s);
  }
  if (s.size() == 16 && s[8] == 'T' && s[15] == 'Z' &&
      sscanf(s.c_str(), "%4d%2u%2uT%2d%2d%2dZ", &y, &mo, &d, &h, &mi, &sec) == 6) {
    return ToUnix(y, mo, d, h, mi, sec, unix_s);
  }
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char month[4] = {0};
  if (sscanf(s.c_str(), "%*3s, %2u %3s %4d %2d:%2d:%2d GMT", &d, month, &y, &h, &mi, &sec) == 6) {
    for (unsigned i = 0; i < 12; ++i) {
      if (strcmp(month, kMonths[i]) == 0) return ToUnix(y, i + 1, d, h, mi, sec, unix_s);
    }
  }
  return false;
}

bool ClockSkewSeconds(const S3Response& r, int64_t local_wall_ms, int64_t* skew_s) {
  int64_t server = 0;
  if (!ParseS3Time(r.server_time, &server) && !ParseS3Time(r.date, &server)) return false;
  *skew_s = local_wall_ms / 1000 - server;
  return true;
}

std::string Describe(const S3Response& r, std::string_view where, int64_t local_wall_ms) {
  std::string w(where);
  std::string said =
      r.code.empty() ? "HTTP " + std::to_string(r.status) : std::to_string(r.status) + " " + r.code;
  if (!r.message.empty()) said += " (" + r.message + ")";
  switch (Classify(r)) {
    case S3Problem::kNone:
      return "stored";
    case S3Problem::kRetry:
      if (r.status == 0) return r.error + "; retrying with backoff";
      return w + " answered " + said + "; retrying with backoff";
    case S3Problem::kAuth:
      return w + " refused the credentials: " + said +
             "; check the access key id and secret (credentials file or AWS_* environment), "
             "the session token's expiry and the bucket policy, then reload (SIGHUP)";
    case S3Problem::kClockSkew: {
      int64_t skew = 0;
      std::string by = ClockSkewSeconds(r, local_wall_ms, &skew)
                           ? "by " + SkewWords(skew) + " the store's time"
                           : "(the store did not say by how much)";
      return "the gateway's clock is wrong " + by + ": " + w +
             " refuses requests signed at a "
             "time more than 15 minutes off; set the clock (NTP, or an RTC that keeps time)";
    }
    case S3Problem::kNoBucket:
      return "configuration error: " + w + " does not exist (" + said +
             "); create the bucket or correct the s3:// URL, endpoint and region";
    case S3Problem::kTooLarge:
      return w + " refused the object as too large: " + said;
    case S3Problem::kConfig:
      return "configuration error: " + w + " answered " + said +
             "; check the endpoint, region and path_style";
  }
  return said;
}

}  // namespace ferry::s3
