// s3:// URLs, object keys and the partition date of a batch (s3/s3_location.h).
#include <doctest/doctest.h>
#include <zstd.h>

#include "agent/s3/s3_location.h"

using namespace ferry;

namespace {

std::string Zstd(std::string_view text) {
  std::string out(ZSTD_compressBound(text.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 3));
  return out;
}

}  // namespace

TEST_CASE("s3 URLs give a bucket and a prefix without surrounding slashes") {
  auto a = s3::ParseS3Url("s3://ferry-lake/landing/v1/");
  REQUIRE(a.ok());
  CHECK(a->bucket == "ferry-lake");
  CHECK(a->prefix == "landing/v1");
  auto b = s3::ParseS3Url("s3://ferry-lake");
  REQUIRE(b.ok());
  CHECK(b->prefix == "");
  CHECK(s3::ParseS3Url("s3://ferry-lake/").ok());
}

TEST_CASE("s3 URLs with a bad bucket name or prefix are refused saying why") {
  CHECK(s3::ParseS3Url("http://x/y").status().message() == "must start with s3://");
  CHECK(s3::ParseS3Url("s3://Ferry/x").status().message().find("bucket name 'Ferry'") == 0);
  CHECK(!s3::ParseS3Url("s3://ab").ok());
  CHECK(!s3::ParseS3Url("s3://-ab/").ok());
  CHECK(!s3::ParseS3Url("s3://a..b").ok());
  CHECK(s3::ParseS3Url("s3://lake/a//b").status().message().find("empty, '.' or '..'") !=
        std::string::npos);
  CHECK(!s3::ParseS3Url("s3://lake/../b").ok());
  CHECK(!s3::ParseS3Url("s3://lake/a?b").ok());
}

TEST_CASE("the object key is prefix, Hive partitions and the Idempotency-Key") {
  CHECK(s3::ObjectKey("landing/v1", "gw-1", "2026-11-21", "gw-1.7k.1-20") ==
        "landing/v1/gateway=gw-1/dt=2026-11-21/gw-1.7k.1-20.ndjson.zst");
  CHECK(s3::ObjectKey("", "gw-1", "2026-11-21", "gw-1.7k.1-20") ==
        "gateway=gw-1/dt=2026-11-21/gw-1.7k.1-20.ndjson.zst");
}

TEST_CASE("the batch date is the first record's received_at date, compressed or not") {
  std::string lines =
      "{\"id\":\"g.e.1\",\"received_at\":\"2026-11-21T23:59:59.999Z\"}\n"
      "{\"id\":\"g.e.2\",\"received_at\":\"2026-11-22T00:00:00.001Z\"}\n";
  CHECK(*s3::BatchDate(lines, false) == "2026-11-21");
  CHECK(*s3::BatchDate(Zstd(lines), true) == "2026-11-21");
  // Two concatenated frames, the first line crossing no frame boundary.
  CHECK(*s3::BatchDate(Zstd(lines.substr(0, 10)) + Zstd(lines.substr(10)), true) == "2026-11-21");
}

TEST_CASE("a batch without a usable received_at has no date") {
  CHECK(!s3::BatchDate("{\"id\":\"x\"}\n", false).ok());
  CHECK(!s3::BatchDate("not json\n", false).ok());
  CHECK(!s3::BatchDate("{\"received_at\":\"2026-11-21T10:00:00+01:00\"}\n", false).ok());
  CHECK(!s3::BatchDate("{\"received_at\":1763720100}\n", false).ok());
  CHECK(!s3::BatchDate("not zstd", true).ok());
  CHECK(!s3::BatchDate("", true).ok());
}
