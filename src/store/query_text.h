// Shared by the query language's parser and printer (store_query.h: Query::parse, to_string).
#pragma once

#include <string>
#include <string_view>

namespace wasm_sandbox::store::query_text {

// Whether `word` is a keyword of the language (and so cannot be a bare field name).
bool is_keyword(std::string_view word);
// `field` (a path as Query::where takes it) as the language writes it: bare ("address.city")
// when it can be, else as a JSON pointer ("/and", "/a.b").
std::string field(const std::string& field);

}  // namespace wasm_sandbox::store::query_text
