// The queue's epochs. A record id is <gateway>.<epoch>.<seq>; numbers come back after a power
// cut with storage.sync "normal" (its last commits are rolled back, and their numbers may have
// been sent already), so an open after such a stop starts a new epoch for the records stored
// from then on. A run that does not sync every commit marks the file in use at open and clears
// the mark at a clean close, both with one synced commit; the mark names the machine's boot, so
// a crash of the process alone (which loses nothing the OS was given) costs no epoch.
// FORMAT.md, "Epochs".
#include <charconv>
#include <limits>
#include <optional>
#include <span>
#include <string>

#include "platform/log.h"
#include "storage/queue.h"
#include "storage/queue_internal.h"
#include "storage/schema.h"

namespace ferry::storage {

using platform::Result;
using platform::Status;

namespace {

constexpr char kSyncNormal[] = "normal";

bool IsEpochText(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char ch : s) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))) return false;
  }
  return true;
}

// The value of a meta row, or nullopt when there is none.
Result<std::optional<std::string>> MetaValue(Db& db, std::string_view key) {
  Result<Stmt> get = db.Prepare("SELECT value FROM meta WHERE key='" + std::string(key) + "'");
  if (!get.ok()) return get.status();
  Result<bool> row = get->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(std::string(get->Text(0)));
}

// meta `epochs`: "<first_seq>:<epoch> ...".
std::string EpochList(std::span<const EpochStart> epochs) {
  std::string list;
  for (const EpochStart& e : epochs) {
    list += (list.empty() ? "" : " ") + std::to_string(e.first_seq) + ":" + e.epoch;
  }
  return list;
}

}  // namespace

// meta `epochs`: "<first_seq>:<epoch> ...", ascending, the last one `epoch`. A file without the
// row has one epoch from seq 1. Epochs whose records have all left are not kept in memory.
Status Queue::LoadEpochs() {
  epochs_.clear();
  Result<std::optional<std::string>> text = MetaValue(*db_, "epochs");
  if (!text.ok()) return text.status();
  const std::string list = text->value_or("1:" + epoch_);
  std::string_view rest = list;
  while (!rest.empty()) {
    size_t end = rest.find(' ');
    std::string_view item = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    size_t colon = item.find(':');
    uint64_t first = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), first);
    if (colon == std::string_view::npos || ec != std::errc() || ptr != item.data() + colon ||
        !IsEpochText(item.substr(colon + 1)) ||
        (!epochs_.empty() && first <= epochs_.back().first_seq)) {
      return Status::Corruption("meta epochs unreadable: '" + list + "'");
    }
    epochs_.push_back({first, std::string(item.substr(colon + 1))});
  }
  if (epochs_.empty() || epochs_.back().epoch != epoch_) {
    return Status::Corruption("meta epochs does not end with the epoch " + epoch_);
  }
  size_t gone = 0;
  while (gone + 1 < epochs_.size() && epochs_[gone + 1].first_seq <= c_.acked_through + 1) ++gone;
  epochs_.erase(epochs_.begin(), epochs_.begin() + static_cast<std::ptrdiff_t>(gone));
  c_.epochs_kept_from = 0;
  return Status::Ok();
}

// Decides this run's epoch from the mark the last run left (meta `running`: "<sync> <boot>"),
// and leaves this run's mark. Called at open, before any record is stored.
Status Queue::StartRun(platform::Random& random) {
  Result<std::optional<std::string>> mark = MetaValue(*db_, "running");
  if (!mark.ok()) return mark.status();
  bool new_epoch = false;
  if (mark->has_value()) {
    std::string_view m = **mark;
    size_t sp = m.find(' ');
    std::string_view sync = m.substr(0, sp);
    std::string_view boot = sp == std::string_view::npos ? "" : m.substr(sp + 1);
    // Only a run that did not sync each commit can have lost one, and only if the machine
    // stopped too: what the process had written is in the OS's cache after a crash of its own.
    new_epoch = sync != "full" && (boot.empty() || boot != options_.boot_id);
    if (new_epoch) {
      StartEpoch(random, "the last run (storage.sync \"" + std::string(sync) +
                             "\") did not close cleanly and the machine restarted since");
    }
  }
  return WriteRunStart(new_epoch, *mark);
}

void Queue::StartEpoch(platform::Random& random, const std::string& why) {
  auto taken = [&](const std::string& token) {
    for (const EpochStart& e : epochs_) {
      if (e.epoch == token) return true;
    }
    return false;
  };
  std::string old = epoch_, token = platform::RandomToken(random, kEpochLength);
  for (int tries = 1; taken(token) && tries < 8; ++tries) {
    token = platform::RandomToken(random, kEpochLength);
  }
  // Only a random source that repeats itself (a test's) gets here: the seq makes it differ.
  if (taken(token)) token += std::to_string(c_.next_seq);
  // An epoch that holds no record any more (two such stops in a row) is replaced.
  while (!epochs_.empty() && epochs_.back().first_seq >= c_.next_seq) epochs_.pop_back();
  epochs_.push_back({c_.next_seq, token});
  epoch_ = token;
  epoch_started_unclean_ = true;
  platform::LogWarn("queue", why +
                                 ": its last commits may be lost, and the landing zone may "
                                 "have records numbered from them; records from seq " +
                                 std::to_string(c_.next_seq) + " on get the new epoch " + epoch_ +
                                 " (was " + old + ")");
}

// One commit, synced even in sync "normal": the new epoch and this run's mark must be on the
// disk before any record is stored under them.
Status Queue::WriteRunStart(bool new_epoch, const std::optional<std::string>& last_mark) {
  std::optional<std::string> mark;  // none with sync "full": every commit is on the disk
  if (!options_.sync_full) mark = std::string(kSyncNormal) + " " + options_.boot_id;
  if (!new_epoch && mark == last_mark) {
    marked_in_use_ = mark.has_value();
    return Status::Ok();
  }
  if (!options_.sync_full) FERRY_RETURN_IF_ERROR(db_->Exec("PRAGMA synchronous = FULL"));
  Status st = stmts_->begin.Run();
  if (st.ok() && new_epoch) {
    st = stmts_->set_meta.Bind(1, std::string_view("epochs")).Bind(2, EpochList(epochs_)).Run();
    if (st.ok()) st = stmts_->set_meta.Bind(1, std::string_view("epoch")).Bind(2, epoch_).Run();
  }
  if (st.ok() && !mark) st = db_->Exec("DELETE FROM meta WHERE key='running'");
  if (st.ok() && mark) {
    st = stmts_->set_meta.Bind(1, std::string_view("running")).Bind(2, *mark).Run();
  }
  if (st.ok()) st = Commit("commit the run's start");
  if (!st.ok()) (void)stmts_->rollback.Run();
  marked_in_use_ = st.ok() && mark.has_value();
  if (!options_.sync_full) {
    Status back = db_->Exec("PRAGMA synchronous = NORMAL");
    if (st.ok()) st = back;
  }
  return st;
}

// At a clean close, after the last write: the mark goes with a synced commit, which makes every
// commit before it durable too. If it fails, the next open only starts a new epoch.
void Queue::EndRun() {
  // Only this run's own mark: an open that failed leaves the last run's for the next open.
  if (!marked_in_use_) return;
  Status st = db_->Exec("PRAGMA synchronous = FULL");
  if (st.ok()) st = db_->Exec("DELETE FROM meta WHERE key='running'");
  if (!st.ok()) platform::LogWarn("queue", "closing: clearing the in-use mark: " + st.ToString());
}

const std::string& Queue::EpochOf(uint64_t seq) const {
  for (auto it = epochs_.rbegin(); it != epochs_.rend(); ++it) {
    if (it->first_seq <= seq) return it->epoch;
  }
  return epochs_.front().epoch;
}

// The last sequence number a batch starting at `seq` may hold: its epoch's last.
uint64_t Queue::EpochLastSeq(uint64_t seq) const {
  for (const EpochStart& e : epochs_) {
    if (e.first_seq > seq) return e.first_seq - 1;
  }
  return std::numeric_limits<uint64_t>::max();
}

// Drops from meta `epochs` the epochs whose records have all left (every seq through
// acked_through). Inside the caller's transaction; the caller restores c_ on rollback.
Status Queue::PruneEpochs(uint64_t acked_through) {
  size_t from = c_.epochs_kept_from;
  while (from + 1 < epochs_.size() && epochs_[from + 1].first_seq <= acked_through + 1) ++from;
  if (from == c_.epochs_kept_from) return Status::Ok();
  c_.epochs_kept_from = from;
  std::span<const EpochStart> kept(epochs_.begin() + static_cast<std::ptrdiff_t>(from),
                                   epochs_.end());
  return stmts_->set_meta.Bind(1, std::string_view("epochs")).Bind(2, EpochList(kept)).Run();
}

}  // namespace ferry::storage
