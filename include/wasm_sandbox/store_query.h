// Queries over a tree's nuts, and the order they rely on (docs/store.md, "Queries").
//
// A Query is a plain value built in C++ or parsed from text (Query::parse, the language of
// `wasm-sandbox store query`); it runs on one snapshot through ReadTxn::query/count/explain or
// the Tree conveniences of the same names (store.h). Nothing here touches a store, so a Query
// may be built, copied and shared between threads freely.
//
// Fields are paths into the payload: "address.city" (dot-separated members; a segment of
// digits also indexes an array: "tags.0"), or a JSON pointer (RFC 6901) when the field starts
// with '/': "/address/city", "/a.b" (a member whose name holds a dot).
//
// Types are ordered: null < booleans < numbers < strings < arrays < objects (< binary).
// Within a type: false < true; numbers by value, exactly, whatever their representation
// (1 == 1.0; NaN below every other number); strings bytewise; arrays element by element, then
// shorter first; objects member by member in key order (key, then value), then fewer first.
// A field that is absent sorts before null.
//
// Conditions (every one must hold; a nut without the field matches none but NotExists):
//   Eq, Ne          equal / not equal in that order (Ne: the field exists and differs)
//   Lt Le Gt Ge     the field has the value's type and is below/above it: `age > 30` never
//                   matches a string or a null
//   Exists, NotExists  the field is there (even as null) / is not
//   Contains        an array with an element equal to the value, or a string containing the
//                   value (a string)
//   Prefix          a string starting with the value, which must be a string
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "wasm_sandbox/result.h"

namespace wasm_sandbox::store {

enum class Op { Eq, Ne, Lt, Le, Gt, Ge, Exists, NotExists, Contains, Prefix };
// "=", "!=", "<", "<=", ">", ">=", "exists", "not exists", "contains", "prefix".
const char* to_string(Op op);

enum Order { Ascending, Descending };

// <0, 0, >0 as a is before, equal to, or after b in the order above. A total order: sorting
// with it is deterministic.
int compare_values(const nlohmann::json& a, const nlohmann::json& b);

struct Condition {
  std::string field;
  Op op = Op::Eq;
  nlohmann::json value;  // ignored by Exists/NotExists
};

struct SortKey {
  std::string field;  // empty when by_timestamp
  bool by_timestamp = false;
  Order order = Ascending;
};

// What to select and in which order. Results come sorted by the sort keys in turn, then by id
// (ascending); with no sort key, in id order. skip and take apply after sorting.
class Query {
 public:
  // Adds a condition (all must hold).
  Query& where(std::string field, Op op, nlohmann::json value = nullptr);
  // Adds a sort key on a payload field (after those added before).
  Query& order_by(std::string field, Order order = Ascending);
  // Adds a sort key on the nut's timestamp.
  Query& order_by_timestamp(Order order = Ascending);
  // The n most recently / least recently stashed: order_by_timestamp(...).take(n).
  Query& newest(size_t n);
  Query& oldest(size_t n);
  // Only nuts stashed in [from_ns, to_ns], both ends included. Calls intersect.
  Query& between(uint64_t from_ns, uint64_t to_ns);
  // Leaves out the first n results (after sorting).
  Query& skip(size_t n);
  // At most n results. take(0) returns nothing; a query without take() has no limit.
  Query& take(size_t n);

  // Parses the text form (docs/store.md, "Query language"), e.g.
  //   age >= 30 and tags contains "math" order by age desc skip 5 limit 10
  // Errors are InvalidArgument naming the column (1-based, in bytes) and the token:
  //   "query: at column 9: expected a value after `>=`, found end of input".
  static Result<Query> parse(std::string_view text);

  const std::vector<Condition>& conditions() const { return conditions_; }
  const std::vector<SortKey>& sort_keys() const { return sort_keys_; }
  uint64_t from_ns() const { return from_ns_; }
  uint64_t to_ns() const { return to_ns_; }
  size_t skip_count() const { return skip_; }
  bool has_take() const { return has_take_; }
  size_t take_count() const { return take_; }
  // One line, in the text form: Query::parse(q.to_string()) is an equivalent query.
  std::string to_string() const;

 private:
  std::vector<Condition> conditions_;
  std::vector<SortKey> sort_keys_;
  uint64_t from_ns_ = 0;
  uint64_t to_ns_ = UINT64_MAX;
  size_t skip_ = 0;
  size_t take_ = 0;
  bool has_take_ = false;
};

// How a query runs (ReadTxn::explain). Owned value.
struct Plan {
  // The field of the secondary index the query reads (Tree::create_index), or empty for a scan
  // of the whole tree.
  std::string index;
  // The conditions that bound the part of the index read (each still re-checked on the nut).
  std::vector<Condition> index_conditions;
  // The index yields the requested order, so the query stops after skip + take results
  // instead of sorting every match.
  bool index_order = false;
  // One line for people, e.g. "index `age` range age >= 30 (re-checked); filter: tags
  // contains \"math\"; in index order, stops after 15; skip 5; take 10".
  std::string text;
};

}  // namespace wasm_sandbox::store
