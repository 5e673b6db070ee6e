// Field paths: which part of a payload a query condition, a sort key or an index looks at.
//
// Two spellings of one thing (store_query.h): "address.city" and the JSON pointer
// "/address/city". A path is kept as its segments; a segment of canonical decimal digits also
// indexes an array. The canonical text (indexes' names, plans) is the dotted form when it can
// spell the path, else the pointer.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wasm_sandbox/result.h"

namespace wasm_sandbox::store::field_path {

struct Path {
  std::vector<std::string> segments;  // never empty
  bool operator==(const Path&) const = default;
};

// The path `field` spells; InvalidArgument ("field `a..b`: empty segment at byte 2") for an
// empty field, an empty dotted segment, or a malformed pointer escape.
Result<Path> parse(std::string_view field);
// "a.b" when every segment is non-empty and free of '.', and the first does not start with
// '/'; else the JSON pointer.
std::string canonical(const Path& path);
// The array index a segment spells ("0", "12"; not "01" or "-1"), or -1.
long long array_index(std::string_view segment);

// The value at `path` in `document`, or nullptr when absent. Points into `document`.
const nlohmann::json* find(const nlohmann::json& document, const Path& path);

enum class Lookup { Found, Absent, Corrupt };
// Finds the value at `path` in `body`, one MessagePack value (a stored payload), without
// decoding the rest: *value is the bytes of the value found (pointing into `body`). Corrupt
// when the bytes walked are not valid MessagePack. A repeated key: the last one counts (as
// when decoding).
Lookup find_msgpack(std::string_view body, const Path& path, std::string_view* value);
// The value at `path` in `body`, decoded into *value (nullopt when absent); false when `body`
// is corrupt.
bool decode_field(std::string_view body, const Path& path, std::optional<nlohmann::json>* value);

}  // namespace wasm_sandbox::store::field_path
