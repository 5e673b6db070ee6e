// Validation of tree names and nut ids, and their quoting in error messages.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "wasm_sandbox/result.h"

namespace wasm_sandbox::store::names {

// An error if `name` is not 1 to 64 bytes of [A-Za-z0-9_.-] starting with a letter or digit.
// (Internal databases start with '$', so no tree can collide with them.)
std::optional<Error> check_tree_name(std::string_view name);
// An error naming `tree` if `id` is empty or longer than `max_key_size` bytes.
std::optional<Error> check_id(std::string_view tree, std::string_view id, size_t max_key_size);
// `id` quoted for a message: at most 64 bytes, other bytes than printable ASCII as \xNN.
std::string quote(std::string_view id);
// "tree `name`, id `id`" for messages.
std::string where(std::string_view tree, std::string_view id);

}  // namespace wasm_sandbox::store::names
