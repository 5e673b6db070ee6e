// The JSON wire format of store sync over HTTP (docs/store.md, "Sync"): one change as a JSON
// object, and the bytes JSON text cannot carry. Internal to src/store/http.
//
// A change: {"id": "k", "version": 3, "timestamp": 1700000000000000000, "expiry": null,
//            "deleted": false, "seq": 12, "payload": {...}}
// - an id that is not valid UTF-8 travels as "id_hex" (lowercase hex of its bytes) instead;
// - a payload JSON text cannot hold exactly (a string or key that is not UTF-8, a NaN or
//   infinite number, binary) travels as "payload_msgpack_hex": the hex of its MessagePack;
// - integers are unsigned 64-bit and round-trip exactly; "expiry" is null or an integer.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "wasm_sandbox/result.h"
#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store::wire {

// True if `text` is well-formed UTF-8 (Unicode 15, table 3-7: no overlong forms, no
// surrogates, nothing above U+10FFFF) — exactly what a JSON parser accepts in a string.
bool valid_utf8(std::string_view text);
// Lowercase hex of `bytes`, and back: nothing if `hex` has an odd length or a non-hex digit.
std::string to_hex(std::string_view bytes);
bool from_hex(std::string_view hex, std::string* bytes);

// Appends the JSON object of `change` to `out`. Never fails: whatever cannot be JSON text is
// hex-encoded as above.
void append_change(const Change& change, std::string* out);

// Reads one change from its JSON object (taken by value: the payload is moved out of it, not
// copied); InvalidArgument naming `where` (e.g. "change 3") and the field missing or wrong.
Result<Change> parse_change(nlohmann::json value, std::string_view where);

// The unsigned integer field `key` of object `value`; InvalidArgument naming `where` and the
// key if it is missing or not an unsigned integer.
Result<uint64_t> get_uint(const nlohmann::json& value, std::string_view key,
                          std::string_view where);
// The string field `key` of object `value`; InvalidArgument naming `where` and the key
// otherwise.
Result<std::string> get_string(const nlohmann::json& value, std::string_view key,
                               std::string_view where);

// A JSON string literal (quotes included) of `text`, which must be valid UTF-8.
std::string quoted(std::string_view text);

}  // namespace wasm_sandbox::store::wire
