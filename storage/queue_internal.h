// Prepared statements shared by queue.cc and queue_batches.cc. Internal to storage/.
#pragma once

#include "storage/sqlite_db.h"

namespace ferry::storage {

struct Queue::Statements {
  Stmt begin, commit, rollback;
  Stmt insert_block, insert_dead_letter;
  Stmt first_batch, insert_batch, split_batch, attempt_batch, delete_batch;
  Stmt blocks_from, blocks_in_range, removed_in_range, insert_removed;
  Stmt block_keys_in_range, block_data;
  Stmt delete_blocks_through, delete_removed_through, set_meta, oldest_block_after;
  Stmt delivered_sums, removed_between, batches_before;
  Stmt keep_block_acks, keep_group_acks, prune_kept_acks, cap_kept_acks;
  Stmt upsert_sparkplug_metric;
  Stmt list_dead_letters, get_dead_letter, delete_dead_letter;
  Stmt head_blocks, batch_covering, delete_batches_through, pragma_page_count, pragma_freelist;
};

}  // namespace ferry::storage
