// Stored MessagePack straight to JSON text, without building an nlohmann::json: the text path
// of the raw reads (NutView::json_text(); docs/store.md "Raw reads").
//
// Accepts exactly what msgpack::decode() accepts (msgpack_reader.h) and treats the input as
// untrusted. The text is byte for byte what decode() followed by
// nlohmann::json::dump(-1, ' ', false, error_handler_t::replace) gives: keys in nlohmann's
// (sorted, last-wins) order, doubles in nlohmann's shortest form, non-finite numbers as null,
// binary values as {"bytes":[...],"subtype":...}, invalid UTF-8 replaced by U+FFFD. The common
// case (keys already sorted, as nlohmann writes them; valid UTF-8; nesting up to kMaxDepth) is
// rendered in one pass; anything else falls back to decode() + dump().
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace wasm_sandbox::store::msgpack {

// Appends the JSON text of the one MessagePack value that is all of `bytes` to *out; false if
// `bytes` is not exactly one valid value (*out is then as it was).
bool append_json_text(std::string_view bytes, std::string* out);

// The size of the text append_json_text() would append for `bytes`, in *size, without writing
// it (the same walk, counting; the same fallback): false exactly where append_json_text() is,
// and *size is then untouched. What a guest's quota charges a document (src/store/guest).
bool json_text_size(std::string_view bytes, size_t* size);

}  // namespace wasm_sandbox::store::msgpack
