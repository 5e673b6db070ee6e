// Raw reads: a nut as stored, its payload left as MessagePack (the store's on-disk encoding).
//
// Building an nlohmann::json (what crack() returns) is most of the cost of a read: every string
// and every object member is allocated, and freed again. RawNut and NutView hand out the stored
// bytes instead; the payload is decoded only if asked (payload()), or rendered straight to JSON
// text without a DOM (json_text(): what a command line, an HTTP response or a guest wants).
// Included by store.h, which returns them (ReadTxn::crack_raw, crack_view, scan_view;
// Tree::crack_raw, crack_view).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "wasm_sandbox/result.h"

namespace wasm_sandbox::store {

// A nut pointing into the store's pages (zero-copy). Valid only as long as the transaction it
// was read in (the callback of Store::read(), Store::write() or Tree::crack_view()), and inside
// a write transaction only until that transaction's next write; copy what must outlive that
// (RawNut::from(view)). Thread-safe to read from any number of threads while valid.
struct NutView {
  std::string_view id;
  // The payload's MessagePack bytes, as stored (nlohmann::json::to_msgpack of the document).
  // Not checked when read: payload() and json_text() fail on corrupt bytes.
  std::string_view msgpack;
  uint64_t version = 0;
  uint64_t timestamp_ns = 0;
  std::optional<uint64_t> expires_at_ns;

  // The payload decoded: the same value crack() returns. Io ("nut `id`: corrupt payload
  // (MessagePack)") if `msgpack` is not exactly one valid MessagePack value.
  Result<nlohmann::json> payload() const;
  // The payload as compact JSON text, exactly payload()->dump(-1, ' ', false,
  // nlohmann::json::error_handler_t::replace): with valid UTF-8 strings, equal to dump().
  // Rendered from the MessagePack without building the json value. Errors as payload().
  Result<std::string> json_text() const;
  // The same, appended to *out (which is left as it was on error): lets a caller render many
  // nuts into one buffer without an allocation each.
  Status append_json_text(std::string* out) const;
};

// A nut as stored, owned: the id and the payload's MessagePack bytes copied out of the store.
// Valid after the transaction and after the store closes. Methods as NutView's.
struct RawNut {
  std::string id;
  std::string msgpack;  // the payload as MessagePack
  uint64_t version = 0;
  uint64_t timestamp_ns = 0;
  std::optional<uint64_t> expires_at_ns;

  // A copy of `view`'s bytes.
  static RawNut from(const NutView& view);
  // A view of this nut's bytes: valid while this RawNut is alive and unchanged.
  NutView view() const { return {id, msgpack, version, timestamp_ns, expires_at_ns}; }
  Result<nlohmann::json> payload() const { return view().payload(); }
  Result<std::string> json_text() const { return view().json_text(); }
  Status append_json_text(std::string* out) const { return view().append_json_text(out); }
};

}  // namespace wasm_sandbox::store
