// ferry-landing: the receiver's answers and what it leaves on disk, without sockets (plus one
// round trip over loopback through the HTTP adapter).
#include <httplib.h>
#include <sys/stat.h>
#include <zstd.h>

#include <doctest/doctest.h>
#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "agent/landing/batch_key.h"
#include "agent/landing/batch_store.h"
#include "agent/landing/body_codec.h"
#include "agent/landing/http_server.h"
#include "agent/landing/options.h"
#include "agent/landing/receiver.h"
#include "platform/clock.h"
#include "platform/file.h"
#include "support/temp_dir.h"

namespace ferry::landing {
namespace {

constexpr int64_t kNov21 = 1'763'720'100'000;  // 2025-11-21T10:15:00Z
constexpr int64_t kDayMs = 86'400'000;

std::string Zstd(std::string_view text) {
  std::string out(ZSTD_compressBound(text.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 3);
  REQUIRE(!ZSTD_isError(n));
  out.resize(n);
  return out;
}

std::string Unzstd(std::string_view data) {
  Decompressor d;
  std::string_view out;
  std::string error;
  REQUIRE(d.Decompress(data, 1u << 30, &out, &error) == Decompressor::Outcome::kOk);
  return std::string(out);
}

std::string Lines(int first, int count) {
  std::string s;
  for (int i = first; i < first + count; ++i) {
    s += "{\"id\":\"gw-1.ep0." + std::to_string(i) + "\",\"seq\":" + std::to_string(i) +
         ",\"data\":{\"t\":21.5,\"a\":[1,{\"id\":2},null]}}\n";
  }
  return s;
}

struct Fixture {
  testing::TempDir dir;
  platform::FakeClock clock{kNov21};
  std::unique_ptr<BatchStore> store;
  std::unique_ptr<Receiver> receiver;
  std::string body;  // kept alive for the requests that view it

  explicit Fixture(ReceiverOptions options = {}, BatchStore::WriteFn write = nullptr) {
    auto opened = BatchStore::Open(dir.path() + "/landing", std::move(write));
    REQUIRE(opened.ok());
    store = std::move(opened).value();
    receiver = std::make_unique<Receiver>(*store, std::move(options), clock);
  }

  Request Batch(const std::string& key, std::string ndjson, uint64_t records,
                bool compress = true) {
    body = compress ? Zstd(ndjson) : std::move(ndjson);
    Request r{"POST", "/v1/batches", {}, body};
    r.headers = {{"Content-Type", "application/x-ndjson"},
                 {"Idempotency-Key", key},
                 {"Ferry-Gateway", key.substr(0, key.find('.'))},
                 {"Ferry-Records", std::to_string(records)},
                 {"Ferry-Schema", "1"}};
    if (compress) r.headers.emplace_back("Content-Encoding", "zstd");
    return r;
  }

  std::string PathOf(const std::string& key, int64_t ms = kNov21) const {
    return dir.path() + "/landing/gateway=" + key.substr(0, key.find('.')) +
           "/dt=" + BatchStore::FormatDate(ms) + "/" + key + ".ndjson.zst";
  }
};

void SetHeader(Request& r, const std::string& name, const std::string& value) {
  for (auto& [k, v] : r.headers) {
    if (k == name) {
      v = value;
      return;
    }
  }
  r.headers.emplace_back(name, value);
}

TEST_CASE("a batch without received_at is stored under gateway and receipt date, unchanged") {
  Fixture f;
  std::string ndjson = Lines(1, 3);
  Response r = f.receiver->Handle(f.Batch("gw-1.ep0.1-3", ndjson, 3));
  CHECK(r.status == 200);
  CHECK(r.body == R"({"records":3,"stored":true})");
  std::string path = f.dir.path() + "/landing/gateway=gw-1/dt=2025-11-21/gw-1.ep0.1-3.ndjson.zst";
  auto stored = platform::ReadFile(path);
  REQUIRE(stored.ok());
  CHECK(*stored == f.body);  // as received, still compressed
  CHECK(Unzstd(*stored) == ndjson);
}

TEST_CASE("a key stored before is answered as a duplicate and the file is not rewritten") {
  Fixture f;
  REQUIRE(f.receiver->Handle(f.Batch("gw-1.ep0.1-2", Lines(1, 2), 2)).status == 200);
  std::string first = *platform::ReadFile(f.PathOf("gw-1.ep0.1-2"));
  Response r = f.receiver->Handle(f.Batch("gw-1.ep0.1-2", Lines(5, 2), 2));
  CHECK(r.status == 200);
  CHECK(r.body == R"({"duplicate":true})");
  CHECK(*platform::ReadFile(f.PathOf("gw-1.ep0.1-2")) == first);
}

TEST_CASE("a retry that arrives days later is still a duplicate") {
  Fixture f;
  REQUIRE(f.receiver->Handle(f.Batch("gw-1.ep0.1-2", Lines(1, 2), 2)).status == 200);
  f.clock.Advance(3 * kDayMs);
  CHECK(f.receiver->Handle(f.Batch("gw-1.ep0.1-2", Lines(1, 2), 2)).body ==
        R"({"duplicate":true})");
  CHECK(!platform::PathExists(f.PathOf("gw-1.ep0.1-2", kNov21 + 3 * kDayMs)));
  // A new key that day lands in the new date's directory.
  CHECK(f.receiver->Handle(f.Batch("gw-1.ep0.3-3", Lines(3, 1), 1)).status == 200);
  CHECK(platform::PathExists(f.PathOf("gw-1.ep0.3-3", kNov21 + 3 * kDayMs)));
}

TEST_CASE("a duplicate stored by an earlier process is found on disk") {
  Fixture f;
  REQUIRE(f.receiver->Handle(f.Batch("gw-1.ep0.1-2", Lines(1, 2), 2)).status == 200);
  f.clock.Advance(kDayMs);
  auto reopened = BatchStore::Open(f.dir.path() + "/landing");
  REQUIRE(reopened.ok());
  Receiver second(**reopened, {}, f.clock);
  CHECK(second.Handle(f.Batch("gw-1.ep0.1-2", Lines(1, 2), 2)).body == R"({"duplicate":true})");
}

std::string StampedLines(int first, int count, const std::string& received_at) {
  std::string s;
  for (int i = first; i < first + count; ++i) {
    s += "{\"id\":\"gw-1.ep0." + std::to_string(i) + "\",\"seq\":" + std::to_string(i) +
         ",\"received_at\":\"" + received_at + "\",\"data\":{}}\n";
  }
  return s;
}

TEST_CASE("the partition is the date of the first record's received_at, not of receipt") {
  Fixture f;  // the clock says 2025-11-21
  std::string ndjson = StampedLines(1, 2, "2025-11-19T23:59:59.999Z");
  REQUIRE(f.receiver->Handle(f.Batch("gw-1.ep0.1-2", ndjson, 2)).status == 200);
  CHECK(platform::PathExists(f.dir.path() +
                             "/landing/gateway=gw-1/dt=2025-11-19/gw-1.ep0.1-2.ndjson.zst"));
}

TEST_CASE("regression: a retry after midnight lands in the partition of its first attempt") {
  // The date used to be the date of receipt: a batch first sent at 23:59:59 and retried after
  // midnight was then looked for, and stored, in the next day's directory.
  std::string ndjson = StampedLines(1, 1, "2025-11-21T23:59:59.000Z");
  Fixture g;
  g.clock.Advance(kDayMs);  // the retry is received on 2025-11-22
  REQUIRE(g.receiver->Handle(g.Batch("gw-1.ep0.1-1", ndjson, 1)).status == 200);
  CHECK(platform::PathExists(g.PathOf("gw-1.ep0.1-1", kNov21)));
  CHECK(!platform::PathExists(g.PathOf("gw-1.ep0.1-1", kNov21 + kDayMs)));
}

TEST_CASE("malformed keys, gateways and epochs are refused with 400") {
  Fixture f;
  for (const char* key :
       {"gw-1.ep0.1", "gw-1.ep0.2-1", "gw/1.ep0.1-1", ".ep0.1-1", "gw-1.EP0.1-1", "gw-1..1-1",
        "gw-1.ep0.01-1", "gw-1.ep0.a-1", "gw-1.ep0.1-1.x", "gw-1.ep0.1-99999999999999999999",
        "gw-1.0123456789abcdef0123456789abcdefx.1-1"}) {
    CAPTURE(key);
    Response r = f.receiver->Handle(f.Batch(key, Lines(1, 1), 1));
    CHECK(r.status == 400);
    CHECK(r.body.find("Idempotency-Key") != std::string::npos);
  }
  std::string long_gw(65, 'g');
  CHECK(f.receiver->Handle(f.Batch(long_gw + ".ep0.1-1", Lines(1, 1), 1)).status == 400);
  CHECK(f.receiver->Handle(f.Batch(std::string(64, 'g') + ".ep0.1-1", Lines(1, 1), 1)).status ==
        200);
  CHECK(!std::filesystem::exists(f.dir.path() + "/landing/gateway=gw"));
}

TEST_CASE("wrong or missing headers are refused with 400 naming the header") {
  Fixture f;
  struct Case {
    const char* header;
    const char* value;
  };
  for (Case c :
       {Case{"Ferry-Gateway", "gw-2"}, Case{"Ferry-Gateway", "gw 1"}, Case{"Ferry-Schema", "2"},
        Case{"Ferry-Records", "0"}, Case{"Ferry-Records", "x"}, Case{"Ferry-Records", "-1"},
        Case{"Content-Type", "application/json"}, Case{"Content-Encoding", "gzip"}}) {
    CAPTURE(c.header);
    CAPTURE(c.value);
    Request r = f.Batch("gw-1.ep0.1-1", Lines(1, 1), 1);
    SetHeader(r, c.header, c.value);
    Response resp = f.receiver->Handle(r);
    CHECK(resp.status == 400);
    CHECK(resp.body.find(c.header) != std::string::npos);
  }
  Request r = f.Batch("gw-1.ep0.1-1", Lines(1, 1), 1);
  r.headers.erase(r.headers.begin() + 1);  // Idempotency-Key
  CHECK(f.receiver->Handle(r).status == 400);
}

TEST_CASE("header names are case-insensitive and the content type may carry parameters") {
  Fixture f;
  Request r = f.Batch("gw-1.ep0.1-1", Lines(1, 1), 1);
  for (auto& [k, v] : r.headers) {
    for (char& c : k) c = static_cast<char>(tolower(c));
  }
  SetHeader(r, "content-type", "application/x-ndjson; charset=utf-8");
  CHECK(f.receiver->Handle(r).status == 200);
}

TEST_CASE("a record count that does not match the lines is refused with 400") {
  Fixture f;
  Response r = f.receiver->Handle(f.Batch("gw-1.ep0.1-5", Lines(1, 3), 4));
  CHECK(r.status == 400);
  CHECK(r.body.find("Ferry-Records") != std::string::npos);
  // More records than the key's range can hold.
  CHECK(f.receiver->Handle(f.Batch("gw-1.ep0.1-2", Lines(1, 3), 3)).status == 400);
}

TEST_CASE("a line that is not an object with a string id is refused with 422 naming the line") {
  Fixture f;
  struct Case {
    std::string line;
    const char* reason;
  };
  for (const Case& c :
       {Case{"[1,2]\n", "not a JSON object"}, Case{"{\"seq\":2}\n", "no id field"},
        Case{"{\"id\":2}\n", "not a string"}, Case{"{\"id\":\"x\"\n", "not valid JSON"},
        Case{"\n", "blank line"}, Case{"{\"id\":\"x\"}", "newline"},
        Case{"{\"id\":\"\xff\"}\n", "not valid JSON"},
        Case{"{\"id\":\"x\"} {}\n", "not valid JSON"}, Case{"5\n", "not a JSON object"},
        Case{"\"s\"\n", "not a JSON object"}, Case{"{\"x\":{\"id\":\"a\"}}\n", "no id field"},
        Case{"{\"id\":\"a\",\"id\":[1]}\n", "not a string"}}) {
    CAPTURE(c.line);
    std::string ndjson = Lines(1, 1) + c.line + Lines(3, 1);
    if (c.line.back() != '\n') ndjson = Lines(1, 2) + c.line;
    Response r = f.receiver->Handle(f.Batch("gw-1.ep0.1-3", ndjson, 3));
    CHECK(r.status == 422);
    CHECK(r.body.find(c.reason) != std::string::npos);
    std::string line_no = c.line.back() != '\n' ? "line 3" : "line 2";
    CHECK(r.body.find(line_no) != std::string::npos);
  }
  CHECK(!platform::PathExists(f.dir.path() + "/landing/gateway=gw-1"));
}

TEST_CASE("a body that is not valid zstd is refused with 400") {
  Fixture f;
  Request r = f.Batch("gw-1.ep0.1-1", Lines(1, 1), 1);
  std::string garbage = "this is not zstd";
  r.body = garbage;
  CHECK(f.receiver->Handle(r).status == 400);
  std::string truncated = Zstd(Lines(1, 1));
  truncated.pop_back();
  r.body = truncated;
  CHECK(f.receiver->Handle(r).status == 400);
  r.body = "";
  CHECK(f.receiver->Handle(r).status == 400);
  std::string trailing = Zstd(Lines(1, 1)) + "xx";
  r.body = trailing;
  CHECK(f.receiver->Handle(r).status == 400);
}

TEST_CASE("bodies beyond the size caps are refused with 413") {
  ReceiverOptions options;
  options.max_decompressed = 1000;
  options.max_body = 5000;
  Fixture f(options);
  std::string big = Lines(1, 100);  // about 4 KiB, compresses well
  CHECK(f.receiver->Handle(f.Batch("gw-1.ep0.1-100", big, 100)).status == 413);
  CHECK(f.receiver->Handle(f.Batch("gw-1.ep0.1-200", Lines(1, 200), 200, false)).status == 413);
  CHECK(f.receiver->Handle(f.Batch("gw-1.ep0.1-10", Lines(1, 10), 10)).status == 200);
}

TEST_CASE("the decompressor accepts content of exactly the cap and refuses one byte more") {
  std::string text(100'000, 'a');
  std::string z = Zstd(text);
  Decompressor d;
  std::string_view out;
  std::string error;
  CHECK(d.Decompress(z, text.size(), &out, &error) == Decompressor::Outcome::kOk);
  CHECK(out == text);
  CHECK(d.Decompress(z, text.size() - 1, &out, &error) == Decompressor::Outcome::kTooLarge);
}

TEST_CASE("with a token configured, requests without it are refused with 401") {
  ReceiverOptions options;
  options.token = "s3cret";
  Fixture f(options);
  Request r = f.Batch("gw-1.ep0.1-1", Lines(1, 1), 1);
  CHECK(f.receiver->Handle(r).status == 401);
  r.headers.emplace_back("Authorization", "Bearer wrong");
  CHECK(f.receiver->Handle(r).status == 401);
  SetHeader(r, "Authorization", "Bearer s3cret2");
  CHECK(f.receiver->Handle(r).status == 401);
  SetHeader(r, "Authorization", "Basic s3cret");
  CHECK(f.receiver->Handle(r).status == 401);
  SetHeader(r, "Authorization", "Bearer s3cret");
  CHECK(f.receiver->Handle(r).status == 200);
  CHECK(ConstantTimeEquals("abc", "abc"));
  CHECK(!ConstantTimeEquals("ab", "abc"));
  CHECK(!ConstantTimeEquals("abcd", "abc"));
}

TEST_CASE("concatenated zstd frames are accepted as one stream and stored as received") {
  Fixture f;
  Request r = f.Batch("gw-1.ep0.1-4", "", 4);
  std::string two = Zstd(Lines(1, 2)) + Zstd(Lines(3, 2));
  r.body = two;
  CHECK(f.receiver->Handle(r).status == 200);
  auto stored = platform::ReadFile(f.PathOf("gw-1.ep0.1-4"));
  REQUIRE(stored.ok());
  CHECK(*stored == two);
  CHECK(Unzstd(*stored) == Lines(1, 4));
}

TEST_CASE("an uncompressed body is stored compressed") {
  Fixture f;
  Response r = f.receiver->Handle(f.Batch("gw-1.ep0.1-3", Lines(1, 3), 3, false));
  CHECK(r.status == 200);
  auto stored = platform::ReadFile(f.PathOf("gw-1.ep0.1-3"));
  REQUIRE(stored.ok());
  CHECK(Unzstd(*stored) == Lines(1, 3));
}

TEST_CASE("a full disk is answered 503 with Retry-After, other write errors 500") {
  platform::Status fault = platform::Status::NoSpace("write: No space left on device");
  Fixture f({}, [&](const std::string&, std::string_view) { return fault; });
  Response r = f.receiver->Handle(f.Batch("gw-1.ep0.1-1", Lines(1, 1), 1));
  CHECK(r.status == 503);
  CHECK(r.retry_after_seconds > 0);
  fault = platform::Status::IoError("fsync: Input/output error");
  CHECK(f.receiver->Handle(f.Batch("gw-1.ep0.1-1", Lines(1, 1), 1)).status == 500);
}

TEST_CASE("concurrent requests with the same key store it once") {
  Fixture f;
  std::string body = Zstd(Lines(1, 50));
  std::atomic<int> stored{0}, duplicates{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      Request r{"POST", "/", {}, body};
      r.headers = {{"Content-Type", "application/x-ndjson"},
                   {"Content-Encoding", "zstd"},
                   {"Idempotency-Key", "gw-1.ep0.1-50"},
                   {"Ferry-Gateway", "gw-1"},
                   {"Ferry-Records", "50"},
                   {"Ferry-Schema", "1"}};
      Response resp = f.receiver->Handle(r);
      if (resp.body.find("stored") != std::string::npos) ++stored;
      if (resp.body.find("duplicate") != std::string::npos) ++duplicates;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(stored == 1);
  CHECK(duplicates == 7);
}

TEST_CASE("healthz answers ok and unknown paths 404") {
  Fixture f;
  CHECK(f.receiver->Handle({"GET", "/healthz", {}, ""}).body == "ok\n");
  CHECK(f.receiver->Handle({"GET", "/healthz", {}, ""}).status == 200);
  CHECK(f.receiver->Handle({"GET", "/v1/batches", {}, ""}).status == 404);
  CHECK(f.receiver->Handle({"DELETE", "/x", {}, ""}).status == 404);
}

TEST_CASE("the command line is parsed and checked") {
  auto o = ParseOptions({"--listen", "127.0.0.1:0", "--root=/tmp/x", "--max-body", "1MiB"});
  REQUIRE(o.ok());
  CHECK(o->host == "127.0.0.1");
  CHECK(o->port == 0);
  CHECK(o->max_body == 1u << 20);
  CHECK(o->max_decompressed == 256u << 20);
  CHECK(!ParseOptions({"--root", "/tmp/x"}).ok());
  CHECK(!ParseOptions({"--listen", "127.0.0.1:0"}).ok());
  CHECK(!ParseOptions({"--listen", "nope", "--root", "/x"}).ok());
  CHECK(!ParseOptions({"--listen", "h:1", "--root", "/x", "--bogus", "1"}).ok());
  CHECK(!ParseOptions({"--listen", "h:1", "--root"}).ok());
  CHECK(!ParseOptions({"--listen", "h:65536", "--root", "/x"}).ok());
  CHECK(!ParseOptions({"--listen", "h:1", "--root", "/x", "--max-body", "0"}).ok());
  CHECK(!ParseOptions({"--listen", "h:1", "--root", "/x", "--max-body", "MiB"}).ok());
  auto ipv6 = ParseOptions({"--listen", "[::1]:8080", "--root", "/x", "--max-body", "2KB"});
  REQUIRE(ipv6.ok());
  CHECK(ipv6->host == "::1");
  CHECK(ipv6->max_body == 2000);
}

TEST_CASE("TLS options come as a certificate and key pair, a client CA only with them") {
  auto o = ParseOptions({"--listen", "127.0.0.1:0", "--root", "/x", "--tls-cert", "c.pem",
                         "--tls-key=k.pem", "--tls-client-ca", "ca.pem"});
  REQUIRE(o.ok());
  CHECK(o->tls.enabled());
  CHECK(o->tls.cert == "c.pem");
  CHECK(o->tls.key == "k.pem");
  CHECK(o->tls.client_ca == "ca.pem");
  CHECK(!ParseOptions({"--listen", "127.0.0.1:0", "--root", "/x"})->tls.enabled());
  auto no_key = ParseOptions({"--listen", "h:1", "--root", "/x", "--tls-cert", "c.pem"});
  REQUIRE(!no_key.ok());
  CHECK(no_key.status().message() == "--tls-cert needs --tls-key");
  CHECK(!ParseOptions({"--listen", "h:1", "--root", "/x", "--tls-key", "k.pem"}).ok());
  CHECK(!ParseOptions({"--listen", "h:1", "--root", "/x", "--tls-client-ca", "ca.pem"}).ok());
  CHECK(!ParseOptions({"--listen", "h:1", "--root", "/x", "--tls-cert="}).ok());
}

TEST_CASE("unreadable TLS files are refused naming the option, the file and what to give") {
  TlsFiles files{"/nonexistent/cert.pem", "/nonexistent/key.pem", ""};
  platform::Status st = CheckTlsFiles(files, nullptr);
  CHECK(st.code() == platform::Code::kNotFound);
  CHECK(st.message() ==
        "--tls-cert /nonexistent/cert.pem: cannot read it (No such file or directory); give the "
        "server certificate (PEM), then any intermediate CAs");
}

TEST_CASE("the HTTP server answers a batch over loopback") {
  Fixture f;
  HttpServer server(*f.receiver, 1 << 20);
  auto port = server.Bind("127.0.0.1", 0);
  REQUIRE(port.ok());
  std::thread serving([&] { CHECK(server.Serve().ok()); });
  httplib::Client client("127.0.0.1", *port);
  std::string body = Zstd(Lines(1, 2));
  httplib::Headers headers = {{"Content-Encoding", "zstd"},
                              {"Idempotency-Key", "gw-1.ep0.1-2"},
                              {"Ferry-Gateway", "gw-1"},
                              {"Ferry-Records", "2"},
                              {"Ferry-Schema", "1"}};
  auto res = client.Post("/v1/batches", headers, body, "application/x-ndjson");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(platform::PathExists(f.PathOf("gw-1.ep0.1-2")));
  auto health = client.Get("/healthz");
  REQUIRE(health);
  CHECK(health->body == "ok\n");
  auto big = client.Post("/v1/batches", headers, std::string(2 << 20, 'x'), "application/x-ndjson");
  REQUIRE(big);
  CHECK(big->status == 413);
  server.Stop();
  serving.join();
  HttpServer second(*f.receiver, 1 << 20);
  second.Stop();  // before Serve: Serve returns at once
  CHECK(second.Serve().ok());
}

}  // namespace
}  // namespace ferry::landing
