// The keys of a secondary index: a field's value encoded so that LMDB's bytewise key order
// follows compare_values (store_query.h), as far as 511 bytes allow.
//
//   absent   00
//   null     01
//   boolean  02 00|01
//   number   03 + 8 bytes: the value as a double, big-endian, sign bit flipped for positives
//            and every bit flipped for negatives (-0 as 0; NaN as 8 zero bytes, lowest)
//   string   04 + the bytes, cut to the key size left
//   array    05      object 06      binary 07   (the type only)
//
// The encoding is monotone but not injective: a < b implies key(a) <= key(b), and equal
// values have equal keys, but distinct values may share a key (integers beyond 2^53, long
// strings, any two arrays). A query reads index keys in a range and re-checks every nut.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "wasm_sandbox/store_query.h"

namespace wasm_sandbox::store::index_key {

// The key for a field with `value` (nullptr: absent), at most `max_size` bytes (>= 9).
std::string encode(const nlohmann::json* value, size_t max_size);

// A range of keys: those >= lo, and <= hi or starting with hi. An empty lo is the first key.
struct Range {
  std::string lo;
  std::string hi = "\xff";  // no key starts with ff: every key
  bool empty() const;
  // Whether `key` lies in the range.
  bool contains(std::string_view key) const;
  // The intersection of this range and `other`.
  void intersect(const Range& other);
};

// The keys a field satisfying `condition` can have, or false if the condition cannot bound
// them (Ne, Exists, Contains).
bool range_for(const Condition& condition, size_t max_size, Range* range);

}  // namespace wasm_sandbox::store::index_key
