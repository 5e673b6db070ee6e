// A MessagePack decoder straight into nlohmann::json, for reading nuts.
//
// nlohmann's own from_msgpack goes through a generic SAX/DOM layer; this decoder builds the
// same value directly and is what makes a crack cheap (see docs/store.md). It accepts exactly
// what nlohmann::json::from_msgpack(strict) accepts for the types nlohmann writes, and
// treats the input as untrusted (a corrupt page): every length is checked against the bytes
// left, and nesting deeper than kMaxDepth is handed to nlohmann's decoder.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

namespace wasm_sandbox::store::msgpack {

inline constexpr int kMaxDepth = 256;

// Decodes the one MessagePack value that is all of `bytes` into *out; false if `bytes` is not
// exactly one valid value (*out is then unspecified).
bool decode(std::string_view bytes, nlohmann::json* out);

}  // namespace wasm_sandbox::store::msgpack
