// Helpers around compare_values (store_query.h): type ranks and condition matching.
#pragma once

#include <nlohmann/json.hpp>

#include "wasm_sandbox/store_query.h"

namespace wasm_sandbox::store::value_order {

// The type's place in the order: null 0, boolean 1, number 2, string 3, array 4, object 5,
// binary 6.
int rank(const nlohmann::json& value);
// Whether a field with `value` (nullptr: absent) satisfies `condition` (store_query.h).
bool matches(const Condition& condition, const nlohmann::json* value);

}  // namespace wasm_sandbox::store::value_order
