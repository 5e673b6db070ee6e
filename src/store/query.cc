// Query: the builder, and its text form (store_query.h).
#include <algorithm>

#include "store/field_path.h"
#include "store/query_text.h"
#include "wasm_sandbox/store_query.h"

namespace wasm_sandbox::store {

Query& Query::where(std::string field, Op op, nlohmann::json value) {
  conditions_.push_back({std::move(field), op, std::move(value)});
  return *this;
}

Query& Query::order_by(std::string field, Order order) {
  sort_keys_.push_back({std::move(field), false, order});
  return *this;
}

Query& Query::order_by_timestamp(Order order) {
  sort_keys_.push_back({"", true, order});
  return *this;
}

Query& Query::newest(size_t n) { return order_by_timestamp(Descending).take(n); }

Query& Query::oldest(size_t n) { return order_by_timestamp(Ascending).take(n); }

Query& Query::between(uint64_t from_ns, uint64_t to_ns) {
  from_ns_ = std::max(from_ns_, from_ns);
  to_ns_ = std::min(to_ns_, to_ns);
  return *this;
}

Query& Query::skip(size_t n) {
  skip_ = n;
  return *this;
}

Query& Query::take(size_t n) {
  take_ = n;
  has_take_ = true;
  return *this;
}

std::string Query::to_string() const {
  std::string out;
  auto add = [&](const std::string& part) {
    if (!out.empty()) out += ' ';
    out += part;
  };
  bool first = true;
  auto next_condition = [&] {
    if (!first) add("and");
    first = false;
  };
  for (const Condition& c : conditions_) {
    next_condition();
    add(query_text::field(c.field));
    add(store::to_string(c.op));
    if (c.op != Op::Exists && c.op != Op::NotExists) add(c.value.dump());
  }
  if (from_ns_ != 0 || to_ns_ != UINT64_MAX) {
    next_condition();
    add("timestamp between " + std::to_string(from_ns_) + " and " + std::to_string(to_ns_));
  }
  for (size_t i = 0; i < sort_keys_.size(); ++i) {
    const SortKey& key = sort_keys_[i];
    if (i == 0) {
      add("order by");
    } else {
      out += ',';  // "order by a desc, b asc"
    }
    add(key.by_timestamp ? "timestamp" : query_text::field(key.field));
    add(key.order == Descending ? "desc" : "asc");
  }
  if (skip_ != 0) add("skip " + std::to_string(skip_));
  if (has_take_) add("limit " + std::to_string(take_));
  return out;
}

namespace query_text {

std::string field(const std::string& field) {
  auto path = field_path::parse(field);
  if (!path.ok()) return field;
  const std::string canonical = field_path::canonical(*path);
  bool bare = !canonical.starts_with('/') && !is_keyword(path->segments.front());
  for (size_t i = 0; bare && i < path->segments.size(); ++i) {
    const std::string& s = path->segments[i];
    for (char c : s) {
      bare = bare && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                      (c >= '0' && c <= '9'));
    }
    if (i == 0 && !s.empty() && s[0] >= '0' && s[0] <= '9') bare = false;
  }
  if (bare) return canonical;
  std::string pointer;
  for (const std::string& s : path->segments) {
    pointer += '/';
    for (char c : s) pointer += c == '~' ? std::string("~0") : c == '/' ? "~1" : std::string(1, c);
  }
  return pointer;
}

}  // namespace query_text
}  // namespace wasm_sandbox::store
