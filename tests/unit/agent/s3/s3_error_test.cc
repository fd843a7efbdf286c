// S3's answers sorted into what to do, and put in words (s3/s3_error.h).
#include <doctest/doctest.h>

#include "agent/s3/s3_error.h"

using namespace ferry;
using s3::S3Problem;
using s3::S3Response;

namespace {

S3Response Answer(int status, std::string_view xml) {
  S3Response r;
  r.status = status;
  s3::ParseErrorBody(xml, &r);
  return r;
}

std::string ErrorXml(std::string_view code, std::string_view extra = "") {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + std::string(code) +
         "</Code><Message>text</Message>" + std::string(extra) + "<RequestId>1</RequestId></Error>";
}

}  // namespace

TEST_CASE("S3's answers map onto retry, auth, clock, bucket and configuration problems") {
  CHECK(s3::Classify(Answer(200, "")) == S3Problem::kNone);
  CHECK(s3::Classify(Answer(0, "")) == S3Problem::kRetry);
  CHECK(s3::Classify(Answer(503, ErrorXml("SlowDown"))) == S3Problem::kRetry);
  CHECK(s3::Classify(Answer(500, ErrorXml("InternalError"))) == S3Problem::kRetry);
  CHECK(s3::Classify(Answer(400, ErrorXml("RequestTimeout"))) == S3Problem::kRetry);
  CHECK(s3::Classify(Answer(403, ErrorXml("AccessDenied"))) == S3Problem::kAuth);
  CHECK(s3::Classify(Answer(403, ErrorXml("SignatureDoesNotMatch"))) == S3Problem::kAuth);
  CHECK(s3::Classify(Answer(403, ErrorXml("InvalidAccessKeyId"))) == S3Problem::kAuth);
  CHECK(s3::Classify(Answer(400, ErrorXml("ExpiredToken"))) == S3Problem::kAuth);
  CHECK(s3::Classify(Answer(403, ErrorXml("RequestTimeTooSkewed"))) == S3Problem::kClockSkew);
  CHECK(s3::Classify(Answer(404, ErrorXml("NoSuchBucket"))) == S3Problem::kNoBucket);
  CHECK(s3::Classify(Answer(400, ErrorXml("EntityTooLarge"))) == S3Problem::kTooLarge);
  CHECK(s3::Classify(Answer(301, ErrorXml("PermanentRedirect"))) == S3Problem::kConfig);
  CHECK(s3::Classify(Answer(400, "<html>bad request</html>")) == S3Problem::kConfig);
}

TEST_CASE("a skewed clock is reported with the skew, from ServerTime or the Date header") {
  S3Response r = Answer(403, ErrorXml("RequestTimeTooSkewed",
                                      "<RequestTime>20261206T140000Z</RequestTime>"
                                      "<ServerTime>2026-12-06T15:00:00Z</ServerTime>"));
  int64_t local_ms = 0;
  int64_t server_s = 0;
  REQUIRE(s3::ParseS3Time("2026-12-06T15:00:00Z", &server_s));
  local_ms = (server_s - 3600) * 1000;
  int64_t skew = 0;
  REQUIRE(s3::ClockSkewSeconds(r, local_ms, &skew));
  CHECK(skew == -3600);
  CHECK(s3::Describe(r, "bucket b at http://s3", local_ms) ==
        "the gateway's clock is wrong by 60 minutes behind the store's time: bucket b at "
        "http://s3 refuses requests signed at a time more than 15 minutes off; set the clock "
        "(NTP, or an RTC that keeps time)");
  S3Response dated;
  dated.status = 403;
  dated.code = "RequestTimeTooSkewed";
  dated.date = "Sun, 06 Dec 2026 15:00:00 GMT";
  REQUIRE(s3::ClockSkewSeconds(dated, (server_s + 3 * 86400) * 1000, &skew));
  CHECK(skew == 3 * 86400);
}

TEST_CASE("S3 times parse in the three forms S3 uses") {
  int64_t a = 0, b = 0, c = 0;
  REQUIRE(s3::ParseS3Time("2026-12-06T15:40:01Z", &a));
  REQUIRE(s3::ParseS3Time("20261206T154001Z", &b));
  REQUIRE(s3::ParseS3Time("Sun, 06 Dec 2026 15:40:01 GMT", &c));
  CHECK(a == 1796571601);
  CHECK(b == a);
  CHECK(c == a);
  int64_t x = 0;
  CHECK(!s3::ParseS3Time("yesterday", &x));
  CHECK(!s3::ParseS3Time("2026-13-06T15:40:01Z", &x));
}

TEST_CASE("messages say what to do and name no secret") {
  S3Response bucket = Answer(404, ErrorXml("NoSuchBucket"));
  CHECK(s3::Describe(bucket, "bucket lake at http://s3", 0) ==
        "configuration error: bucket lake at http://s3 does not exist (404 NoSuchBucket (text)); "
        "create the bucket or correct the s3:// URL, endpoint and region");
  S3Response denied = Answer(403, ErrorXml("InvalidAccessKeyId"));
  CHECK(s3::Describe(denied, "bucket lake", 0).find("check the access key id and secret") !=
        std::string::npos);
  S3Response down;
  down.error = "PUT bucket lake: Connection refused";
  CHECK(s3::Describe(down, "bucket lake", 0) ==
        "PUT bucket lake: Connection refused; retrying with backoff");
}
