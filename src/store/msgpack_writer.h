// A MessagePack encoder for nlohmann::json, for writing nuts.
//
// Writes the same bytes as nlohmann::json::to_msgpack (smallest integer and string forms,
// float32 when a double converts to it and back exactly), about four times faster: nlohmann's
// writer goes through an output adapter one byte at a time. Binary values are handed to
// nlohmann's writer.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

namespace wasm_sandbox::store::msgpack {

// Appends the encoding of `value` to *out.
void encode(const nlohmann::json& value, std::vector<uint8_t>* out);

// The encoding of `value` in a buffer of this thread's that keeps its capacity between calls
// (one grown past 1 MiB is released at the next call): valid until this thread's next call.
std::string_view encode_scratch(const nlohmann::json& value);

}  // namespace wasm_sandbox::store::msgpack
