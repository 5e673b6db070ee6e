// Group commit (write_group.h).
#include "store/write_group.h"

#include <array>

#include "store/store_state.h"

namespace wasm_sandbox::store::detail {
namespace {

// Runs `write` in a write transaction of its own, as with_write does.
void run_alone(StoreState& state, GroupedWrite& write) {
  bool done = true;
  Status status = with_write(state, [&](WriteTxn& txn) -> Status {
    done = write.op(write.context, txn);
    if (done) return {};
    return Error(ErrorKind::Internal, "");  // aborts; the write's own result says why
  });
  write.status = done ? std::move(status) : Status{};
}

// Runs `group` (two writes or more) in one write transaction; false, with nothing committed,
// if any of them or the commit failed.
bool run_together(StoreState& state, const std::array<GroupedWrite*, WriteGroups::kMaxGroup>& group,
                  size_t size) {
  auto txn = begin_write(state);
  if (!txn.ok()) return false;
  WriteLog log;
  WriteTxn writer = Access::write_txn(&state, txn->get(), &log);
  for (size_t i = 0; i < size; ++i) {
    if (!group[i]->op(group[i]->context, writer)) return false;  // ~Txn aborts
  }
  flush_log(txn->get(), log);
  std::unique_lock<std::mutex> notifying;
  if (!log.changes.empty()) notifying = std::unique_lock(state.notify_mutex);
  if (!txn->commit().ok()) return false;
  state.readers.reset_idle();  // as with_write does (reader_pool.h)
  publish_log(state, log);
  return true;
}

}  // namespace

void WriteGroups::run(StoreState& state, GroupedWrite& write) {
  std::unique_lock lock(mutex_);
  (tail_ ? tail_->next : head_) = &write;
  tail_ = &write;
  if (leading_) {
    write.wake.wait(lock, [&] { return write.turn != GroupedWrite::Turn::Waiting; });
    if (write.turn == GroupedWrite::Turn::Done) return;
  }
  // This write is the queue's head: it leads the writes queued up to now.
  leading_ = true;
  std::array<GroupedWrite*, kMaxGroup> group;
  size_t size = 0;
  while (head_ && size < kMaxGroup) {
    group[size++] = head_;
    head_ = head_->next;
  }
  if (!head_) tail_ = nullptr;
  lock.unlock();

  if (size == 1 || !run_together(state, group, size)) {
    for (size_t i = 0; i < size; ++i) run_alone(state, *group[i]);
  }

  lock.lock();
  // Woken under the lock: a follower cannot return (and free its condition variable) before
  // notify_one() is done with it.
  for (size_t i = 1; i < size; ++i) {
    group[i]->turn = GroupedWrite::Turn::Done;
    group[i]->wake.notify_one();
  }
  if (head_) {
    head_->turn = GroupedWrite::Turn::Leading;
    head_->wake.notify_one();
  } else {
    leading_ = false;
  }
}

size_t WriteGroups::waiting() {
  std::lock_guard lock(mutex_);
  size_t count = 0;
  for (GroupedWrite* write = head_; write; write = write->next) ++count;
  return count;
}

}  // namespace wasm_sandbox::store::detail
