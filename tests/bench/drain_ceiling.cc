// drain-ceiling: the drain benchmark's ceiling. Reads every row of the `blocks` table of a copy
// of ferry's queue file (schema: storage/schema.h, format: storage/FORMAT.md) in sequence order,
// decompresses each zstd frame, cuts the NDJSON lines into batches the way a batch former does
// (at most --max-records lines and --max-bytes uncompressed bytes each) and compresses every batch
// at --level, in a tight loop with no HTTP and no bookkeeping. The figure is records per second.
//
// It also times the two cheaper paths, so the drain figure can be put against each:
//   read       SELECT of the blobs only
//   decompress read + decompress + line split (no recompression)
// and Ferry's own path, the drain benchmark's ceiling:
//   send       read the stored blocks in sequence order, form batches on block boundaries (at
//              most --max-records records and --max-bytes uncompressed bytes, a first block
//              larger than that alone), concatenate their frames unchanged and POST each batch
//              over loopback HTTP (keep-alive, TCP_NODELAY) to a receiver in this process that
//              only counts the bytes and answers 200: no validation, no storage, no fsync.
//
// usage: drain-ceiling --db FILE [--level 3] [--max-records 10000] [--max-bytes 4194304]
//                      [--passes 3]
// Prints one line per pass and, last, a summary line of key=value pairs (medians over passes):
//   records=N raw_bytes=B stored_bytes=S batches=K out_bytes=O read_rps=.. decompress_rps=..
//   full_rps=.. send_rps=.. send_batches=..
// A benchmark, not part of storage: it links sqlite3 and zstd directly.
#include <httplib.h>
#include <sqlite3.h>
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string db;
  int level = 3;
  uint64_t max_records = 10'000;
  uint64_t max_bytes = 4u << 20;
  int passes = 3;
};

enum class Mode { kRead, kDecompress, kFull, kSend };

struct PassResult {
  uint64_t records = 0;
  uint64_t raw_bytes = 0;
  uint64_t stored_bytes = 0;
  uint64_t batches = 0;
  uint64_t out_bytes = 0;
  double seconds = 0;
};

bool ParseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string name = argv[i];
    std::string value = argv[i + 1];
    if (name == "--db") {
      o.db = value;
    } else if (name == "--level") {
      o.level = std::atoi(value.c_str());
    } else if (name == "--max-records") {
      o.max_records = std::strtoull(value.c_str(), nullptr, 10);
    } else if (name == "--max-bytes") {
      o.max_bytes = std::strtoull(value.c_str(), nullptr, 10);
    } else if (name == "--passes") {
      o.passes = std::max(1, std::atoi(value.c_str()));
    } else {
      return false;
    }
  }
  return argc % 2 == 1 && !o.db.empty() && o.max_records > 0 && o.max_bytes > 0;
}

// Batch former state: lines collected for the current batch, flushed by compressing them.
class Former {
 public:
  Former(const Options& o, ZSTD_CCtx* cctx, PassResult& r) : o_(o), cctx_(cctx), r_(r) {}

  void AddLine(std::string_view line) {
    if (lines_ > 0 && (lines_ + 1 > o_.max_records || batch_.size() + line.size() > o_.max_bytes)) {
      Flush();
    }
    batch_.append(line);
    ++lines_;
  }

  void Flush() {
    if (lines_ == 0) return;
    out_.resize(ZSTD_compressBound(batch_.size()));
    size_t n =
        ZSTD_compressCCtx(cctx_, out_.data(), out_.size(), batch_.data(), batch_.size(), o_.level);
    if (ZSTD_isError(n)) {
      std::fprintf(stderr, "drain-ceiling: compress: %s\n", ZSTD_getErrorName(n));
      std::exit(1);
    }
    r_.out_bytes += n;
    ++r_.batches;
    batch_.clear();
    lines_ = 0;
  }

 private:
  const Options& o_;
  ZSTD_CCtx* cctx_;
  PassResult& r_;
  std::string batch_;
  std::string out_;
  uint64_t lines_ = 0;
};

// The receiver that only counts, and a client that sends batches of stored frames to it.
class CountingLink {
 public:
  CountingLink() {
    server_.set_tcp_nodelay(true);
    server_.Post("/v1/batches", [this](const httplib::Request& req, httplib::Response& res) {
      received_ += req.body.size();
      res.set_content("{}", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_tcp_nodelay(true);
    client_->set_keep_alive(true);
  }
  ~CountingLink() {
    client_.reset();
    server_.stop();
    thread_.join();
  }
  void Send(const std::string& body, uint64_t records) {
    httplib::Headers headers{{"Content-Encoding", "zstd"},
                             {"Ferry-Records", std::to_string(records)}};
    auto res = client_->Post("/v1/batches", headers, body, "application/x-ndjson");
    if (!res || res->status != 200) {
      std::fprintf(stderr, "drain-ceiling: send failed\n");
      std::exit(1);
    }
  }
  uint64_t received() const { return received_; }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
  uint64_t received_ = 0;
};

// Ferry's drain path: stored frames, batched on block boundaries, sent unchanged.
PassResult SendPass(sqlite3* db, const Options& o, CountingLink& link) {
  PassResult r;
  auto start = Clock::now();
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db,
                         "SELECT first_seq, last_seq, raw_bytes, data FROM blocks ORDER BY "
                         "first_seq",
                         -1, &stmt, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "drain-ceiling: %s\n", sqlite3_errmsg(db));
    std::exit(1);
  }
  std::string body;
  uint64_t records = 0, raw = 0;
  auto flush = [&] {
    if (records == 0) return;
    link.Send(body, records);
    r.out_bytes += body.size();
    ++r.batches;
    body.clear();
    records = raw = 0;
  };
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    auto n =
        static_cast<uint64_t>(sqlite3_column_int64(stmt, 1) - sqlite3_column_int64(stmt, 0) + 1);
    auto block_raw = static_cast<uint64_t>(sqlite3_column_int64(stmt, 2));
    if (records > 0 && (records + n > o.max_records || raw + block_raw > o.max_bytes)) flush();
    body.append(static_cast<const char*>(sqlite3_column_blob(stmt, 3)),
                static_cast<size_t>(sqlite3_column_bytes(stmt, 3)));
    records += n, raw += block_raw;
    r.records += n, r.raw_bytes += block_raw;
    r.stored_bytes += static_cast<uint64_t>(sqlite3_column_bytes(stmt, 3));
  }
  flush();
  sqlite3_finalize(stmt);
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return r;
}

PassResult RunPass(sqlite3* db, const Options& o, Mode mode) {
  PassResult r;
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  Former former(o, cctx, r);
  std::string block;
  auto start = Clock::now();
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT first_seq, last_seq, data FROM blocks ORDER BY first_seq", -1,
                         &stmt, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "drain-ceiling: %s\n", sqlite3_errmsg(db));
    std::exit(1);
  }
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    auto first = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
    auto last = static_cast<uint64_t>(sqlite3_column_int64(stmt, 1));
    const void* data = sqlite3_column_blob(stmt, 2);
    auto size = static_cast<size_t>(sqlite3_column_bytes(stmt, 2));
    r.stored_bytes += size;
    r.records += last - first + 1;
    if (mode == Mode::kRead) continue;
    unsigned long long content = ZSTD_getFrameContentSize(data, size);
    if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN) {
      std::fprintf(stderr, "drain-ceiling: block %llu: no content size in frame\n",
                   static_cast<unsigned long long>(first));
      std::exit(1);
    }
    block.resize(content);
    size_t n = ZSTD_decompressDCtx(dctx, block.data(), block.size(), data, size);
    if (ZSTD_isError(n)) {
      std::fprintf(stderr, "drain-ceiling: decompress: %s\n", ZSTD_getErrorName(n));
      std::exit(1);
    }
    r.raw_bytes += n;
    std::string_view rest(block.data(), n);
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      size_t len = nl == std::string_view::npos ? rest.size() : nl + 1;
      if (mode == Mode::kFull) former.AddLine(rest.substr(0, len));
      rest.remove_prefix(len);
    }
  }
  sqlite3_finalize(stmt);
  former.Flush();
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ZSTD_freeCCtx(cctx);
  ZSTD_freeDCtx(dctx);
  return r;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: drain-ceiling --db FILE [--level 3] [--max-records 10000] "
                 "[--max-bytes 4194304] [--passes 3]\n");
    return 2;
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(o.db.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "drain-ceiling: cannot open %s: %s\n", o.db.c_str(), sqlite3_errmsg(db));
    return 1;
  }
  std::vector<double> read_rps, decompress_rps, full_rps, send_rps;
  PassResult last, sent;
  CountingLink link;
  for (int pass = 0; pass < o.passes; ++pass) {
    PassResult rd = RunPass(db, o, Mode::kRead);
    PassResult dc = RunPass(db, o, Mode::kDecompress);
    PassResult fu = RunPass(db, o, Mode::kFull);
    sent = SendPass(db, o, link);
    read_rps.push_back(rd.records / rd.seconds);
    decompress_rps.push_back(dc.records / dc.seconds);
    full_rps.push_back(fu.records / fu.seconds);
    send_rps.push_back(sent.records / sent.seconds);
    std::printf(
        "pass %d: read %.3f s, decompress %.3f s, full %.3f s, send %.3f s (%llu records)\n",
        pass + 1, rd.seconds, dc.seconds, fu.seconds, sent.seconds,
        static_cast<unsigned long long>(fu.records));
    last = fu;
  }
  sqlite3_close(db);
  std::printf(
      "records=%llu raw_bytes=%llu stored_bytes=%llu batches=%llu out_bytes=%llu read_rps=%.0f "
      "decompress_rps=%.0f full_rps=%.0f send_rps=%.0f send_batches=%llu\n",
      static_cast<unsigned long long>(last.records),
      static_cast<unsigned long long>(last.raw_bytes),
      static_cast<unsigned long long>(last.stored_bytes),
      static_cast<unsigned long long>(last.batches),
      static_cast<unsigned long long>(last.out_bytes), Median(read_rps), Median(decompress_rps),
      Median(full_rps), Median(send_rps), static_cast<unsigned long long>(sent.batches));
  return last.records > 0 ? 0 : 1;
}
