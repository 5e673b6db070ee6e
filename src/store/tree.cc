// Tree: each operation in a transaction of its own (store.h); stashes and tosses from several
// threads at once share transactions (write_group.h).
#include "store/records.h"
#include "store/store_state.h"
#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store {

using detail::with_grouped_write;
using detail::with_read;
using detail::with_write;

Tree::Tree(std::shared_ptr<detail::StoreState> state, detail::TreeInfo* info)
    : state_(std::move(state)), info_(info) {}

const std::string& Tree::name() const { return info_->name; }

Result<uint64_t> Tree::stash(std::string_view id, const nlohmann::json& payload,
                             const StashOptions& options) const {
  return with_grouped_write(*state_,
                            [&](WriteTxn& txn) { return txn.stash(*this, id, payload, options); });
}

Result<uint64_t> Tree::stash(const nlohmann::json& document, const StashOptions& options) const {
  return with_grouped_write(*state_,
                            [&](WriteTxn& txn) { return txn.stash(*this, document, options); });
}

Result<uint64_t> Tree::stash_text(std::string_view id, std::string_view json_text,
                                  const StashOptions& options) const {
  return with_grouped_write(
      *state_, [&](WriteTxn& txn) { return txn.stash_text(*this, id, json_text, options); });
}

Result<Nut> Tree::crack(std::string_view id) const {
  return with_read(*state_, [&](const ReadTxn& txn) { return txn.crack(*this, id); });
}

Status Tree::toss(std::string_view id) const {
  return with_grouped_write(*state_, [&](WriteTxn& txn) { return txn.toss(*this, id); });
}

Result<bool> Tree::exists(std::string_view id) const {
  return with_read(*state_, [&](const ReadTxn& txn) { return txn.exists(*this, id); });
}

Result<uint64_t> Tree::count() const {
  return with_read(*state_, [&](const ReadTxn& txn) { return txn.count(*this); });
}

Status Tree::scan(const ScanOptions& options, const ScanCallback& callback) const {
  return with_read(*state_, [&](const ReadTxn& txn) { return txn.scan(*this, options, callback); });
}

Result<std::vector<Change>> Tree::changes(uint64_t since, size_t limit) const {
  return with_read(*state_, [&](const ReadTxn& txn) -> Result<std::vector<Change>> {
    std::vector<Change> changes;
    Status read = txn.changes(*this, since, limit, [&](const Change& change) {
      changes.push_back(change);
      return true;
    });
    if (!read.ok()) return std::move(read).error();
    return changes;
  });
}

Result<uint64_t> Tree::last_seq() const {
  return with_read(*state_, [&](const ReadTxn& txn) { return txn.last_seq(*this); });
}

Result<Outcome> Tree::squabble(const Change& incoming, const Judge& judge) const {
  return with_write(*state_, [&](WriteTxn& txn) { return txn.squabble(*this, incoming, judge); });
}

Result<uint64_t> Tree::purge_tombstones(uint64_t before_ns) const {
  return with_write(*state_, [&](WriteTxn& txn) { return txn.purge_tombstones(*this, before_ns); });
}

Result<uint64_t> Tree::purge_expired() const {
  return with_write(*state_,
                    [&](WriteTxn& txn) { return txn.purge_expired(*this, detail::now_ns()); });
}

}  // namespace wasm_sandbox::store
