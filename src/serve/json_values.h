// Wasm values to and from JSON, for `serve`'s request and response bodies (docs/serve.md).
//
// Arguments: a JSON array, one element per parameter. i32: an integer in [-2^31, 2^32) (above
// 2^31-1 read as unsigned); i64: an integer in [-2^63, 2^64) (above 2^63-1 read as unsigned),
// or a string of one, for values beyond 2^53 that JSON numbers cannot carry exactly; f32/f64:
// a number, or "nan", "inf", "-inf".
// Results: i32 as a signed number; i64 as a number within +-2^53, else a string; f32/f64 as
// numbers, NaN and infinities as those strings; references as null.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wasm_sandbox/result.h"
#include "wasm_sandbox/value.h"

namespace wasm_sandbox::serve {

// Parses `body` as the arguments of a function of type `type`. InvalidArgument naming the
// problem: bad JSON (with its position), not an array, the wrong count, or which argument
// does not fit its type.
Result<std::vector<Value>> parse_arguments(std::string_view body, const FuncType& type);

// `{"results":[...]}`.
std::string results_json(std::span<const Value> results);

// `{"error":"<message>","kind":"<kind>"}`, the message escaped as a JSON string.
std::string error_json(std::string_view message, std::string_view kind);

}  // namespace wasm_sandbox::serve
