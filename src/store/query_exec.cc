// Running a query on one snapshot (store.h: ReadTxn::query, count, explain; the Tree forms).
//
// Candidates come from a scan of the tree (id order) or from an index (query_plan.h). Each is
// checked on its stored bytes: the timestamp from the header, then only the fields the
// conditions and sort keys name, found in the MessagePack without decoding the rest
// (field_path::find_msgpack); a payload is decoded whole only for a nut that is returned.
// Index keys are re-checked on the nut's own value, since keys may tie (index_key.h).
#include <algorithm>
#include <optional>

#include "store/field_path.h"
#include "store/index.h"
#include "store/names.h"
#include "store/nut_codec.h"
#include "store/query_plan.h"
#include "store/read_value.h"
#include "store/records.h"
#include "store/store_state.h"
#include "store/value_order.h"
#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store {

using detail::Access;

namespace {

using json = nlohmann::json;
using query_plan::Compiled;

// A nut that passed the conditions. `value` points into LMDB's pages (valid for the
// transaction, which nothing writes to while the query runs).
struct Match {
  std::string id;
  std::string_view value;
  uint64_t timestamp = 0;
  std::vector<std::optional<json>> keys;  // the values of the field sort keys (nullopt: absent)
};

class Runner {
 public:
  Runner(MDB_txn* txn, const Tree& tree, const Compiled& query)
      : txn_(txn), tree_(tree), query_(query), q_(*query.query) {
    // Without a sort key, or in an index's order, the source's order is the result's: stop
    // once skip + take matches are in.
    if (q_.has_take()) wanted_ = q_.skip_count() + q_.take_count();
  }

  // Checks the nut (id, stored value); adds a Match if it passes.
  Status consider(std::string_view id, std::string_view stored, std::vector<Match>* out) {
    codec::Header header;
    std::string_view body;
    if (!codec::decode_header(stored, &header, &body)) return corrupt(id);
    if (detail::expired(header, now_)) return {};  // absent to every read
    if (header.timestamp_ns < q_.from_ns() || header.timestamp_ns > q_.to_ns()) return {};
    values_.assign(query_.fields.size(), std::nullopt);
    loaded_.assign(query_.fields.size(), false);
    for (const Compiled::Test& test : query_.tests) {
      if (!load(test.field, body)) return corrupt(id);
      const json* value = values_[test.field] ? &*values_[test.field] : nullptr;
      if (!value_order::matches(test.condition, value)) return {};
    }
    Match match;
    match.id.assign(id);
    match.value = stored;
    match.timestamp = header.timestamp_ns;
    for (const Compiled::Key& key : query_.keys) {
      if (key.field < 0) continue;
      const auto f = static_cast<size_t>(key.field);
      if (!load(f, body)) return corrupt(id);
      match.keys.push_back(values_[f]);
    }
    out->push_back(std::move(match));
    return {};
  }

  // a before b in the query's order.
  bool before(const Match& a, const Match& b) const {
    size_t k = 0;
    for (const Compiled::Key& key : query_.keys) {
      int c;
      if (key.field < 0) {
        c = a.timestamp < b.timestamp ? -1 : (a.timestamp > b.timestamp ? 1 : 0);
      } else {
        const auto& x = a.keys[k];
        const auto& y = b.keys[k];
        ++k;
        c = !x || !y ? int(bool(x)) - int(bool(y)) : compare_values(*x, *y);
      }
      if (c != 0) return key.order == Descending ? c > 0 : c < 0;
    }
    return a.id < b.id;
  }

  bool enough(const std::vector<Match>& matches) const {
    return wanted_ && matches.size() >= *wanted_;
  }
  std::optional<size_t> wanted() const { return wanted_; }

  Status scan_tree(std::vector<Match>* out) {
    const bool stop_early = query_.keys.empty();
    MDB_cursor* raw = nullptr;
    int rc = mdb_cursor_open(txn_, Access::dbi(tree_), &raw);
    if (rc != 0) return detail::tree_error(rc, txn_, tree_, where());
    lmdb::Cursor cursor(raw);
    MDB_val key, value;
    for (rc = cursor.get(&key, &value, MDB_FIRST); rc == 0;
         rc = cursor.get(&key, &value, MDB_NEXT)) {
      if (Status s = consider(lmdb::view(key), lmdb::view(value), out); !s.ok()) return s;
      if (stop_early && enough(*out)) return {};
    }
    if (rc != MDB_NOTFOUND) return lmdb::error(rc, where());
    return {};
  }

  // The index's entries in `range`, not in the index's order: candidates in id order.
  Status index_unordered(const query_plan::Choice& choice, std::vector<Match>* out) {
    std::vector<std::string> ids;
    Status read = walk_index(choice, Ascending, [&](std::string_view, std::string_view id) {
      ids.emplace_back(id);
      return true;
    });
    if (!read.ok()) return read;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    const bool stop_early = query_.keys.empty();
    for (const std::string& id : ids) {
      if (Status s = fetch(id, out); !s.ok()) return s;
      if (stop_early && enough(*out)) break;
    }
    return {};
  }

  // The index's entries in `range` in its order; entries of one key (which may hold several
  // values, index_key.h) are sorted among themselves. Stops after enough results.
  Status index_ordered(const query_plan::Choice& choice, std::vector<Match>* out) {
    std::string group_key;
    std::vector<Match> group;
    auto flush = [&] {
      std::sort(group.begin(), group.end(),
                [&](const Match& a, const Match& b) { return before(a, b); });
      for (Match& m : group) out->push_back(std::move(m));
      group.clear();
    };
    Status inner;
    Status read =
        walk_index(choice, choice.direction, [&](std::string_view key, std::string_view id) {
          if (key != group_key) {
            flush();
            if (enough(*out)) return false;
            group_key.assign(key);
          }
          inner = fetch(id, &group);
          return inner.ok();
        });
    if (!inner.ok()) return inner;
    if (!read.ok()) return read;
    flush();
    return {};
  }

 private:
  std::string where() const { return "tree `" + tree_.name() + "`: query"; }
  Status corrupt(std::string_view id) const {
    return Error(ErrorKind::Io, names::where(tree_.name(), id) + ": corrupt stored value");
  }

  // Finds field `f` in `body` once per nut; false if the payload is corrupt.
  bool load(size_t f, std::string_view body) {
    if (loaded_[f]) return true;
    loaded_[f] = true;
    return field_path::decode_field(body, query_.fields[f], &values_[f]);
  }

  // The nut `id` (from an index) considered; an index entry without its nut is skipped.
  Status fetch(std::string_view id, std::vector<Match>* out) {
    MDB_val key = lmdb::val(id), value;
    int rc = mdb_get(txn_, Access::dbi(tree_), &key, &value);
    if (rc == MDB_NOTFOUND) return {};
    if (rc != 0) return detail::tree_error(rc, txn_, tree_, where());
    return consider(id, lmdb::view(value), out);
  }

  // Calls visit(key, id) for the index entries in choice.range, in `direction`, until it
  // returns false.
  template <class Visit>
  Status walk_index(const query_plan::Choice& choice, Order direction, Visit visit) {
    const index_key::Range& range = choice.range;
    if (range.empty()) return {};
    MDB_cursor* raw = nullptr;
    int rc = mdb_cursor_open(txn_, choice.index->dbi, &raw);
    if (rc != 0) return lmdb::error(rc, where() + ": index `" + choice.index->field + "`");
    lmdb::Cursor cursor(raw);
    MDB_val key, value;
    if (direction == Ascending) {
      key = lmdb::val(range.lo);
      rc = range.lo.empty() ? cursor.get(&key, &value, MDB_FIRST)
                            : cursor.get(&key, &value, MDB_SET_RANGE);
      for (; rc == 0; rc = cursor.get(&key, &value, MDB_NEXT)) {
        const std::string_view k = lmdb::view(key);
        if (!range.contains(k)) break;
        if (!visit(k, lmdb::view(value))) return {};
      }
    } else {
      // Start after the last key within hi: at the first key past every key starting with hi.
      std::string past = range.hi;
      while (!past.empty() && static_cast<uint8_t>(past.back()) == 0xff) past.pop_back();
      if (!past.empty()) past.back() = static_cast<char>(past.back() + 1);
      key = lmdb::val(past);
      rc = past.empty() ? MDB_NOTFOUND : cursor.get(&key, &value, MDB_SET_RANGE);
      rc = rc == 0 ? cursor.get(&key, &value, MDB_PREV) : cursor.get(&key, &value, MDB_LAST);
      for (; rc == 0; rc = cursor.get(&key, &value, MDB_PREV)) {
        const std::string_view k = lmdb::view(key);
        if (!range.contains(k)) break;
        if (!visit(k, lmdb::view(value))) return {};
      }
    }
    if (rc != 0 && rc != MDB_NOTFOUND) return lmdb::error(rc, where());
    return {};
  }

  MDB_txn* txn_;
  const Tree& tree_;
  const Compiled& query_;
  const Query& q_;
  std::optional<size_t> wanted_;
  const uint64_t now_ = detail::now_ns();  // nuts expired by then are absent
  // Per nut considered: the fields found so far.
  std::vector<std::optional<json>> values_;
  std::vector<bool> loaded_;
};

// The matches of `query` in its order, skip and take applied; and the plan it ran.
Result<std::vector<Match>> run(detail::StoreState* state, MDB_txn* txn, const Tree& tree,
                               const Query& query, Plan* plan_out) {
  if (auto bad = detail::check_owner(state, tree)) return std::move(*bad);
  auto compiled = query_plan::compile(tree.name(), query);
  if (!compiled.ok()) return std::move(compiled).error();
  auto indexes = detail::visible_indexes(*state, txn, tree.name());
  const query_plan::Choice choice = query_plan::choose(*compiled, *indexes, state->max_key_size);
  if (plan_out) {
    *plan_out = query_plan::describe(*compiled, choice);
    return std::vector<Match>{};
  }
  std::vector<Match> matches;
  if (query.has_take() && query.take_count() == 0) return matches;
  Runner runner(txn, tree, *compiled);
  Status ran = !choice.index    ? runner.scan_tree(&matches)
               : choice.ordered ? runner.index_ordered(choice, &matches)
                                : runner.index_unordered(choice, &matches);
  if (!ran.ok()) return std::move(ran).error();
  if (!compiled->keys.empty() && !choice.ordered) {
    auto before = [&](const Match& a, const Match& b) { return runner.before(a, b); };
    if (runner.wanted() && *runner.wanted() < matches.size()) {
      std::partial_sort(matches.begin(),
                        matches.begin() + static_cast<std::ptrdiff_t>(*runner.wanted()),
                        matches.end(), before);
    } else {
      std::sort(matches.begin(), matches.end(), before);
    }
  }
  const size_t skip = std::min(query.skip_count(), matches.size());
  matches.erase(matches.begin(), matches.begin() + static_cast<std::ptrdiff_t>(skip));
  if (query.has_take() && matches.size() > query.take_count()) matches.resize(query.take_count());
  return matches;
}

}  // namespace

Result<std::vector<Nut>> ReadTxn::query(const Tree& tree, const Query& query) const {
  auto matches = run(state_, txn_, tree, query, nullptr);
  if (!matches.ok()) return std::move(matches).error();
  std::vector<Nut> nuts(matches->size());
  for (size_t i = 0; i < nuts.size(); ++i) {
    Match& m = (*matches)[i];
    nuts[i].id = std::move(m.id);
    if (auto bad = detail::decode_nut(tree.name(), m.value, &nuts[i])) return std::move(*bad);
  }
  return nuts;
}

Result<uint64_t> ReadTxn::count(const Tree& tree, const Query& query) const {
  auto matches = run(state_, txn_, tree, query, nullptr);
  if (!matches.ok()) return std::move(matches).error();
  return uint64_t{matches->size()};
}

Result<Plan> ReadTxn::explain(const Tree& tree, const Query& query) const {
  Plan plan;
  auto ran = run(state_, txn_, tree, query, &plan);
  if (!ran.ok()) return std::move(ran).error();
  return plan;
}

Result<std::vector<Nut>> Tree::query(const Query& query) const {
  return detail::with_read(*state_, [&](const ReadTxn& txn) { return txn.query(*this, query); });
}

Result<uint64_t> Tree::count(const Query& query) const {
  return detail::with_read(*state_, [&](const ReadTxn& txn) { return txn.count(*this, query); });
}

Result<Plan> Tree::explain(const Query& query) const {
  return detail::with_read(*state_, [&](const ReadTxn& txn) { return txn.explain(*this, query); });
}

}  // namespace wasm_sandbox::store
