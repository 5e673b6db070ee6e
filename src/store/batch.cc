// Batch: operations on one write transaction; the first failure stops the rest (store.h).
#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store {

void Batch::stash(const Tree& tree, std::string_view id, const nlohmann::json& payload,
                  const StashOptions& options) {
  if (!status_.ok()) return;
  auto done = txn_.stash(tree, id, payload, options);
  if (!done.ok()) status_ = std::move(done).error();
}

void Batch::stash(const Tree& tree, const nlohmann::json& document, const StashOptions& options) {
  if (!status_.ok()) return;
  auto done = txn_.stash(tree, document, options);
  if (!done.ok()) status_ = std::move(done).error();
}

void Batch::stash_text(const Tree& tree, std::string_view id, std::string_view json_text,
                       const StashOptions& options) {
  if (!status_.ok()) return;
  auto done = txn_.stash_text(tree, id, json_text, options);
  if (!done.ok()) status_ = std::move(done).error();
}

void Batch::toss(const Tree& tree, std::string_view id) {
  if (!status_.ok()) return;
  status_ = txn_.toss(tree, id);
}

}  // namespace wasm_sandbox::store
