// Writes inside a transaction: stash and toss (store.h, WriteTxn).
#include <lmdb.h>

#include <cstring>
#include <vector>

#include "store/json_text.h"
#include "store/names.h"
#include "store/nut_codec.h"
#include "store/read_value.h"
#include "store/store_state.h"
#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store {

using detail::Access;

Result<uint64_t> WriteTxn::stash(const Tree& tree, std::string_view id,
                                 const nlohmann::json& payload, const StashOptions& options) {
  if (auto bad = detail::check_owner(state_, tree)) return std::move(*bad);
  if (auto bad = names::check_id(tree.name(), id, state_->max_key_size)) return std::move(*bad);
  // Encoded into a per-thread buffer that keeps its capacity between stashes; one grown past
  // 1 MiB (a large document) is released at the thread's next stash.
  thread_local std::vector<uint8_t> body;
  body.clear();
  if (body.capacity() > (size_t{1} << 20)) body.shrink_to_fit();
  nlohmann::json::to_msgpack(payload, body);
  if (body.size() > state_->options.max_document_bytes) {
    return Error(ErrorKind::LimitExceeded,
                 names::where(tree.name(), id) + ": document of " + std::to_string(body.size()) +
                     " bytes (encoded) is larger than StoreOptions::max_document_bytes (" +
                     std::to_string(state_->options.max_document_bytes) + ")");
  }
  const MDB_dbi dbi = Access::dbi(tree);
  MDB_val key = lmdb::val(id);
  MDB_val old;
  codec::Header header;
  header.version = 1;
  uint64_t at_least = 0;
  int rc = mdb_get(txn_, dbi, &key, &old);
  if (rc == 0) {
    codec::Header previous;
    std::string_view ignored;
    if (!codec::decode_header(lmdb::view(old), &previous, &ignored)) {
      return Error(ErrorKind::Io, names::where(tree.name(), id) + ": corrupt stored value");
    }
    header.version = previous.version + 1;
    at_least = previous.timestamp_ns + 1;
  } else if (rc != MDB_NOTFOUND) {
    return lmdb::error(rc, names::where(tree.name(), id));
  }
  header.timestamp_ns = state_->next_timestamp(at_least);
  header.expires_at_ns = options.expires_at_ns;

  // Reserve the value's room in the page and write it there: one copy of the body, not two.
  const size_t head = codec::header_size(header);
  MDB_val value{head + body.size(), nullptr};
  rc = mdb_put(txn_, dbi, &key, &value, MDB_RESERVE);
  if (rc != 0) return lmdb::error(rc, names::where(tree.name(), id));
  char* out = static_cast<char*>(value.mv_data);
  codec::encode_header(header, out);
  if (!body.empty()) std::memcpy(out + head, body.data(), body.size());
  return header.version;
}

Result<uint64_t> WriteTxn::stash(const Tree& tree, const nlohmann::json& document,
                                 const StashOptions& options) {
  auto id = json_text::document_id(tree.name(), document);
  if (!id.ok()) return std::move(id).error();
  return stash(tree, *id, document, options);
}

Result<uint64_t> WriteTxn::stash_text(const Tree& tree, std::string_view id,
                                      std::string_view json_text, const StashOptions& options) {
  if (auto bad = names::check_id(tree.name(), id, state_->max_key_size)) return std::move(*bad);
  auto payload = json_text::parse(json_text);
  if (!payload.ok()) {
    return std::move(payload).error().with_context(names::where(tree.name(), id));
  }
  return stash(tree, id, *payload, options);
}

Status WriteTxn::toss(const Tree& tree, std::string_view id) {
  if (auto bad = detail::check_owner(state_, tree)) return std::move(*bad);
  if (auto bad = names::check_id(tree.name(), id, state_->max_key_size)) return std::move(*bad);
  MDB_val key = lmdb::val(id);
  int rc = mdb_del(txn_, Access::dbi(tree), &key, nullptr);
  if (rc == MDB_NOTFOUND) {
    return Error(ErrorKind::NotFound, names::where(tree.name(), id) + ": no such nut");
  }
  if (rc != 0) return lmdb::error(rc, names::where(tree.name(), id));
  return {};
}

}  // namespace wasm_sandbox::store
