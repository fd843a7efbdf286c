// The S3 upstream: S3's answers as the landing protocol's verdicts, and its config.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <zstd.h>

#include "agent/config/config.h"
#include "agent/forward/s3_uploader.h"
#include "agent/forward/verdict.h"
#include "platform/clock.h"
#include "platform/file.h"
#include "support/temp_dir.h"

using namespace ferry;
using agent::VerdictKind;

namespace {

std::string Zstd(std::string_view text) {
  std::string out(ZSTD_compressBound(text.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 3));
  return out;
}

VerdictKind KindOf(int status, std::string code, std::string retry_after = "") {
  s3::S3Response r;
  r.status = status;
  r.code = std::move(code);
  r.retry_after = std::move(retry_after);
  if (status == 0) r.error = "PUT bucket b: Connection refused";
  agent::UploadResponse up = agent::ToUploadResponse(r, "bucket b at http://s3", 0);
  return agent::ClassifyResponse(up.status, up.retry_after, 0, up.body).kind;
}

}  // namespace

TEST_CASE("S3 answers map onto the verdicts and never onto refused records") {
  CHECK(KindOf(200, "") == VerdictKind::kDelivered);
  CHECK(KindOf(0, "") == VerdictKind::kRetry);
  CHECK(KindOf(503, "SlowDown") == VerdictKind::kRetry);
  CHECK(KindOf(500, "InternalError") == VerdictKind::kRetry);
  CHECK(KindOf(400, "RequestTimeout") == VerdictKind::kRetry);
  CHECK(KindOf(403, "AccessDenied") == VerdictKind::kAuthFailed);
  CHECK(KindOf(403, "SignatureDoesNotMatch") == VerdictKind::kAuthFailed);
  CHECK(KindOf(403, "InvalidAccessKeyId") == VerdictKind::kAuthFailed);
  CHECK(KindOf(403, "RequestTimeTooSkewed") == VerdictKind::kAuthFailed);
  CHECK(KindOf(404, "NoSuchBucket") == VerdictKind::kRetry);
  CHECK(KindOf(301, "PermanentRedirect") == VerdictKind::kRetry);
  CHECK(KindOf(400, "InvalidArgument") == VerdictKind::kRetry);
  CHECK(KindOf(400, "EntityTooLarge") == VerdictKind::kSplit);
}

TEST_CASE("503 SlowDown keeps its Retry-After") {
  s3::S3Response r;
  r.status = 503;
  r.code = "SlowDown";
  r.retry_after = "7";
  agent::UploadResponse up = agent::ToUploadResponse(r, "bucket b", 0);
  CHECK(agent::ClassifyResponse(up.status, up.retry_after, 0, up.body).retry_after_ms == 7000);
}

TEST_CASE("a missing bucket says it is a configuration error and what to do") {
  s3::S3Response r;
  r.status = 404;
  r.code = "NoSuchBucket";
  agent::UploadResponse up = agent::ToUploadResponse(r, "bucket b at http://s3", 0);
  CHECK(up.status == 0);
  CHECK(up.error.find("configuration error: bucket b at http://s3 does not exist") == 0);
}

TEST_CASE("an s3:// upstream takes the S3 batch defaults unless they are set") {
  const char* base = R"({"gateway":{"id":"gw-1"},"mqtt":{"subscriptions":[{"topic":"a/#"}]},)";
  auto s3 = agent::ParseConfig(std::string(base) +
                               R"("upstream":{"url":"s3://ferry-lake/v1","s3":{"endpoint":)"
                               R"("http://127.0.0.1:9000","path_style":true}}})");
  REQUIRE(s3.ok());
  CHECK(s3->upstream.batch_linger_ms == agent::Config::Upstream::kS3BatchLingerMs);
  CHECK(s3->upstream.batch_max_bytes == agent::Config::Upstream::kS3BatchMaxBytes);
  CHECK(s3->upstream.s3.path_style);
  CHECK(s3->upstream.s3.region == "us-east-1");
  auto set = agent::ParseConfig(std::string(base) +
                                R"("upstream":{"url":"s3://ferry-lake","batch":{"linger":"5s"}}})");
  REQUIRE(set.ok());
  CHECK(set->upstream.batch_linger_ms == 5000);
  auto http = agent::ParseConfig(std::string(base) + R"("upstream":{"url":"http://h:1/v1"}})");
  REQUIRE(http.ok());
  CHECK(http->upstream.batch_linger_ms == agent::Config::Upstream::kHttpBatchLingerMs);
  CHECK(http->upstream.batch_max_bytes == agent::Config::Upstream::kHttpBatchMaxBytes);
  auto bad = agent::ParseConfig(std::string(base) + R"("upstream":{"url":"s3://A_B"}})");
  REQUIRE(!bad.ok());
  CHECK(bad.status().message().find("/upstream/url: bucket name 'A_B'") == 0);
}

TEST_CASE("regression: a batch retried after midnight keeps its object key") {
  // The key must come from the batch's own records: a date taken from the clock at send time
  // would put a retry after midnight under a second key, and the batch would land twice.
  testing::TempDir dir;
  std::string creds = dir.File("credentials");
  REQUIRE(platform::WriteFileAtomic(creds, "aws_access_key_id=A\naws_secret_access_key=B\n").ok());
  REQUIRE(chmod(creds.c_str(), 0600) == 0);
  agent::Config config;
  config.gateway.id = "gw-1";
  config.upstream.url = "s3://ferry-lake/v1";
  config.upstream.s3.endpoint = "http://127.0.0.1:9";
  config.upstream.s3.path_style = true;
  config.upstream.s3.credentials_file = creds;
  platform::FakeClock clock(1'796'601'599'000);  // 2026-12-06T23:59:59Z
  auto up = agent::S3Uploader::Create(config, clock);
  REQUIRE(up.ok());
  std::string body = Zstd(
      "{\"id\":\"gw-1.e.5\",\"received_at\":\"2026-12-06T23:59:58.900Z\"}\n"
      "{\"id\":\"gw-1.e.6\",\"received_at\":\"2026-12-07T00:00:00.100Z\"}\n");
  agent::UploadRequest req{"gw-1.e.5-6", 2, true, &body};
  auto before = (*up)->KeyFor(req);
  clock.Advance(2 * 86'400'000);  // the retry comes two days later
  auto after = (*up)->KeyFor(req);
  REQUIRE(before.ok());
  CHECK(*before == "v1/gateway=gw-1/dt=2026-12-06/gw-1.e.5-6.ndjson.zst");
  CHECK(*after == *before);
  // Nothing answers on port 9: the batch is kept for a retry, not refused.
  agent::UploadResponse r = (*up)->Send(req);
  CHECK(r.status == 0);
  CHECK(agent::ClassifyResponse(r.status, r.retry_after, 0, r.body).kind == VerdictKind::kRetry);
}
