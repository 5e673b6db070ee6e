// A write transaction's sequence numbers and change notifications (store_state.h), and
// subscriptions (store.h, Tree::subscribe).
#include <algorithm>
#include <cstring>

#include "store/records.h"
#include "store/store_state.h"
#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store {
namespace detail {
namespace {

// The store whose subscribers this thread is calling, if any.
thread_local const StoreState* t_notifying = nullptr;

}  // namespace

Result<uint64_t> WriteLog::next_seq(MDB_txn* txn, TreeInfo* tree) {
  for (auto& [info, seq] : seqs) {
    if (info == tree) return ++seq;
  }
  uint64_t last = tree->last_seq;
  if (mdb_txn_id(txn) != tree->last_seq_txnid + 1) {
    auto read = read_last_seq(txn, *tree);
    if (!read.ok()) return read;
    last = std::max(last, *read);
  }
  seqs.emplace_back(tree, last + 1);
  return last + 1;
}

Result<lmdb::Txn> begin_write(StoreState& state) {
  if (state.options.read_only) {
    return Error(ErrorKind::InvalidArgument,
                 "the store was opened read-only (StoreOptions::read_only): it cannot be written");
  }
  return lmdb::Txn::begin(state.env.get(), /*read_only=*/false);
}

Status check_not_notifying(const StoreState& state) {
  if (t_notifying != &state) return {};
  return Error(ErrorKind::InvalidArgument,
               state.path.string() + ": a subscription callback cannot write to its own store");
}

void flush_log(MDB_txn* txn, const WriteLog& log) {
  // Still under the writer lock. Should the commit fail, the next writer starts after numbers
  // nobody used: a gap in the feed, never a number used twice.
  for (const auto& [tree, seq] : log.seqs) {
    tree->last_seq = seq;
    tree->last_seq_txnid = mdb_txn_id(txn);
  }
}

void publish_log(StoreState& state, WriteLog& log) {
  if (log.changes.empty()) return;
  std::vector<std::shared_ptr<Subscriber>> subscribers;
  {
    std::lock_guard lock(state.subscribers_mutex);
    subscribers = state.subscribers;
  }
  t_notifying = &state;
  for (const auto& [tree, change] : log.changes) {
    for (const auto& subscriber : subscribers) {
      if (subscriber->tree == tree) subscriber->fn(change);
    }
  }
  t_notifying = nullptr;
}

}  // namespace detail

Subscription Tree::subscribe(std::function<void(const Change&)> fn) const {
  auto subscriber = std::make_shared<detail::Subscriber>();
  subscriber->tree = info_;
  subscriber->fn = std::move(fn);
  // Under the notification lock, so that no commit is between its changes and their delivery
  // while the list changes.
  std::lock_guard notifying(state_->notify_mutex);
  std::lock_guard lock(state_->subscribers_mutex);
  subscriber->id = state_->next_subscriber++;
  state_->subscribers.push_back(subscriber);
  info_->subscribers.fetch_add(1, std::memory_order_release);
  return detail::Access::subscription(state_, subscriber->id);
}

Subscription::Subscription(Subscription&& other) noexcept
    : state_(std::move(other.state_)), id_(other.id_) {}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    state_ = std::move(other.state_);
    id_ = other.id_;
  }
  return *this;
}

void Subscription::reset() {
  if (!state_) return;
  {
    // Waits for a delivery in progress: once this returns the callback is not running.
    std::lock_guard notifying(state_->notify_mutex);
    std::lock_guard lock(state_->subscribers_mutex);
    auto& list = state_->subscribers;
    auto found = std::find_if(list.begin(), list.end(),
                              [&](const auto& subscriber) { return subscriber->id == id_; });
    if (found != list.end()) {
      (*found)->tree->subscribers.fetch_sub(1, std::memory_order_release);
      list.erase(found);
    }
  }
  state_.reset();
}

}  // namespace wasm_sandbox::store
