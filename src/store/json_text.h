// JSON input without exceptions: text to a document, and a document's own id.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "wasm_sandbox/result.h"

namespace wasm_sandbox::store::json_text {

// The document `text` holds; InvalidArgument with the parser's message (and byte offset) if
// it is not exactly one JSON value.
Result<nlohmann::json> parse(std::string_view text);
// The document's "id" field, else its "key" field, which must be a string; InvalidArgument
// naming `tree` otherwise.
Result<std::string> document_id(std::string_view tree, const nlohmann::json& document);

}  // namespace wasm_sandbox::store::json_text
