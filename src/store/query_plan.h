// Planning a query: checking it, and choosing between a scan of the tree and a secondary
// index (docs/store.md, "Indexes": when an index applies).
//
// The planner has no statistics. It reads an index when a condition bounds the index's field
// (=, <, <=, >, >=, prefix, not exists), preferring equality, then prefix and not exists,
// then ranges bounded on both sides, then on one side; or, with take(), when the first sort
// key is an indexed field, to stop after skip + take results. Otherwise it scans the tree.
#pragma once

#include <string>
#include <vector>

#include "store/field_path.h"
#include "store/index_key.h"
#include "store/index_registry.h"
#include "wasm_sandbox/result.h"
#include "wasm_sandbox/store_query.h"

namespace wasm_sandbox::store::query_plan {

// A query with its paths parsed and the fields it reads numbered (each read once per nut).
struct Compiled {
  std::vector<field_path::Path> fields;  // distinct
  struct Test {
    size_t field;
    Condition condition;
  };
  std::vector<Test> tests;
  struct Key {
    int field;  // -1: the timestamp
    Order order;
  };
  std::vector<Key> keys;
  const Query* query = nullptr;
};

// InvalidArgument naming `tree` and the field for a malformed path, or a Prefix operand that
// is not a string.
Result<Compiled> compile(const std::string& tree, const Query& query);

struct Choice {
  const detail::IndexDef* index = nullptr;  // nullptr: scan the tree
  index_key::Range range;                   // the keys to read
  std::vector<Condition> used;              // the conditions that bound the range
  bool ordered = false;                     // read in the first sort key's order
  Order direction = Ascending;
};

Choice choose(const Compiled& query, const detail::TreeIndexes& indexes, size_t max_key_size);

// The Plan for the query and the choice (Plan::text: store_query.h).
Plan describe(const Compiled& query, const Choice& choice);

}  // namespace wasm_sandbox::store::query_plan
