// The query planner (query_plan.h).
#include "store/query_plan.h"

#include "store/query_text.h"

namespace wasm_sandbox::store::query_plan {
namespace {

size_t field_number(std::vector<field_path::Path>& fields, field_path::Path path) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i] == path) return i;
  }
  fields.push_back(std::move(path));
  return fields.size() - 1;
}

int points(Op op) {
  switch (op) {
    case Op::Eq:
      return 4;
    case Op::Prefix:
    case Op::NotExists:
      return 3;
    case Op::Lt:
    case Op::Le:
    case Op::Gt:
    case Op::Ge:
      return 1;
    default:
      return 0;
  }
}

std::string condition_text(const Condition& c) {
  std::string text = query_text::field(c.field) + " " + to_string(c.op);
  if (c.op != Op::Exists && c.op != Op::NotExists) text += " " + c.value.dump();
  return text;
}

}  // namespace

Result<Compiled> compile(const std::string& tree, const Query& query) {
  Compiled out;
  out.query = &query;
  const std::string where = "tree `" + tree + "`: query";
  for (const Condition& c : query.conditions()) {
    auto path = field_path::parse(c.field);
    if (!path.ok()) return std::move(path).error().with_context(where);
    if (c.op == Op::Prefix && !c.value.is_string()) {
      return Error(
          ErrorKind::InvalidArgument,
          where + ": field `" + c.field + "`: prefix needs a string, not a " + c.value.type_name());
    }
    out.tests.push_back({field_number(out.fields, std::move(path).value()), c});
  }
  for (const SortKey& key : query.sort_keys()) {
    if (key.by_timestamp) {
      out.keys.push_back({-1, key.order});
      continue;
    }
    auto path = field_path::parse(key.field);
    if (!path.ok()) return std::move(path).error().with_context(where);
    out.keys.push_back(
        {static_cast<int>(field_number(out.fields, std::move(path).value())), key.order});
  }
  return out;
}

Choice choose(const Compiled& query, const detail::TreeIndexes& indexes, size_t max_key_size) {
  Choice best;
  int best_points = 0;
  for (const detail::IndexDef& def : indexes) {
    Choice choice;
    choice.index = &def;
    int total = 0;
    for (const Compiled::Test& test : query.tests) {
      index_key::Range range;
      if (!(query.fields[test.field] == def.path) ||
          !index_key::range_for(test.condition, max_key_size, &range)) {
        continue;
      }
      choice.range.intersect(range);
      choice.used.push_back(test.condition);
      total += points(test.condition.op);
    }
    if (total > best_points) {
      best = std::move(choice);
      best_points = total;
    }
  }
  const bool first_key_is_field = !query.keys.empty() && query.keys[0].field >= 0;
  if (best.index && first_key_is_field &&
      query.fields[static_cast<size_t>(query.keys[0].field)] == best.index->path) {
    best.ordered = true;
    best.direction = query.keys[0].order;
  }
  if (!best.index && first_key_is_field && query.query->has_take()) {
    for (const detail::IndexDef& def : indexes) {
      if (query.fields[static_cast<size_t>(query.keys[0].field)] == def.path) {
        best.index = &def;
        best.ordered = true;
        best.direction = query.keys[0].order;
        break;
      }
    }
  }
  return best;
}

Plan describe(const Compiled& compiled, const Choice& choice) {
  const Query& query = *compiled.query;
  Plan plan;
  std::string& text = plan.text;
  if (choice.index) {
    plan.index = choice.index->field;
    plan.index_conditions = choice.used;
    plan.index_order = choice.ordered;
    text = "index `" + choice.index->field + "`";
    if (!choice.used.empty()) {
      text += " range";
      for (size_t i = 0; i < choice.used.size(); ++i) {
        text += (i ? " and " : " ") + condition_text(choice.used[i]);
      }
    } else {
      text += " (all of it)";
    }
  } else {
    text = "scan of the tree";
  }
  std::string filter;
  for (const Condition& c : query.conditions()) {
    filter += (filter.empty() ? "" : " and ") + condition_text(c);
  }
  if (query.from_ns() != 0 || query.to_ns() != UINT64_MAX) {
    filter += (filter.empty() ? "" : " and ") + std::string("timestamp between ") +
              std::to_string(query.from_ns()) + " and " + std::to_string(query.to_ns());
  }
  if (!filter.empty()) text += "; filter: " + filter;
  std::string order;
  for (const SortKey& key : query.sort_keys()) {
    order += (order.empty() ? "" : ", ") +
             (key.by_timestamp ? std::string("timestamp") : query_text::field(key.field)) +
             (key.order == Descending ? " desc" : " asc");
  }
  order += order.empty() ? "id" : ", id";
  text += "; order by " + order;
  const bool stops = query.has_take() && (choice.ordered || query.sort_keys().empty());
  if (choice.ordered) {
    text += " (the index's order";
    text += stops ? ", stops after " + std::to_string(query.skip_count() + query.take_count()) +
                        " results)"
                  : ")";
  } else if (!query.sort_keys().empty()) {
    text += " (sorts every match)";
  } else if (stops) {
    text +=
        " (stops after " + std::to_string(query.skip_count() + query.take_count()) + " results)";
  }
  if (query.skip_count() != 0) text += "; skip " + std::to_string(query.skip_count());
  if (query.has_take()) text += "; take " + std::to_string(query.take_count());
  return plan;
}

}  // namespace wasm_sandbox::store::query_plan
