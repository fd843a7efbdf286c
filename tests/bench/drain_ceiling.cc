// drain-ceiling: the drain benchmark's ceiling. Reads every row of the `blocks` table of a copy
// of ferry's queue file (schema: storage/schema.h, format: storage/FORMAT.md) in sequence order,
// decompresses each zstd frame, cuts the NDJSON lines into batches the way a batch former does
// (at most --max-records lines and --max-bytes uncompressed bytes each) and compresses every batch
// at --level, in a tight loop with no HTTP and no bookkeeping. The figure is records per second.
//
// It also times the two cheaper paths, so the drain figure can be put against each:
//   read       SELECT of the blobs only (what sending stored blocks unchanged costs)
//   decompress read + decompress + line split (no recompression)
//
// usage: drain-ceiling --db FILE [--level 3] [--max-records 10000] [--max-bytes 4194304]
//                      [--passes 3]
// Prints one line per pass and, last, a summary line of key=value pairs (medians over passes):
//   records=N raw_bytes=B stored_bytes=S batches=K out_bytes=O read_rps=.. decompress_rps=..
//   full_rps=..
// A benchmark, not part of storage: it links sqlite3 and zstd directly.
#include <sqlite3.h>
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
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

enum class Mode { kRead, kDecompress, kFull };

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
  std::vector<double> read_rps, decompress_rps, full_rps;
  PassResult last;
  for (int pass = 0; pass < o.passes; ++pass) {
    PassResult rd = RunPass(db, o, Mode::kRead);
    PassResult dc = RunPass(db, o, Mode::kDecompress);
    PassResult fu = RunPass(db, o, Mode::kFull);
    read_rps.push_back(rd.records / rd.seconds);
    decompress_rps.push_back(dc.records / dc.seconds);
    full_rps.push_back(fu.records / fu.seconds);
    std::printf("pass %d: read %.3f s, decompress %.3f s, full %.3f s (%llu records)\n", pass + 1,
                rd.seconds, dc.seconds, fu.seconds, static_cast<unsigned long long>(fu.records));
    last = fu;
  }
  sqlite3_close(db);
  std::printf(
      "records=%llu raw_bytes=%llu stored_bytes=%llu batches=%llu out_bytes=%llu read_rps=%.0f "
      "decompress_rps=%.0f full_rps=%.0f\n",
      static_cast<unsigned long long>(last.records),
      static_cast<unsigned long long>(last.raw_bytes),
      static_cast<unsigned long long>(last.stored_bytes),
      static_cast<unsigned long long>(last.batches),
      static_cast<unsigned long long>(last.out_bytes), Median(read_rps), Median(decompress_rps),
      Median(full_rps));
  return last.records > 0 ? 0 : 1;
}
