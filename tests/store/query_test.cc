// Queries: the order of values, what each condition matches, ordering, skip/take, timestamps,
// and a property test: on random documents, every query returns what a brute-force filter over
// a scan returns, with and without indexes.
#include <algorithm>
#include <random>
#include <vector>

#include "store/store_test_util.h"

namespace wasm_sandbox::store {
namespace {

using json = nlohmann::json;
using testing::StoreDir;
using Ids = std::vector<std::string>;

TEST(ValueOrder, TypesInOrderThenValues) {
  // Each strictly before the next.
  const std::vector<json> ordered = {nullptr,
                                     false,
                                     true,
                                     -1e300,
                                     -9223372036854775807LL - 1,
                                     -1.5,
                                     -1,
                                     0,
                                     0.5,
                                     1,
                                     9007199254740992LL,
                                     9007199254740993LL,
                                     1e19,
                                     "",
                                     "A",
                                     "a",
                                     "ab",
                                     "b",
                                     json::array(),
                                     {1},
                                     {1, 2},
                                     {2},
                                     json::object(),
                                     {{"a", 1}},
                                     {{"a", 2}},
                                     {{"b", 0}}};
  for (size_t i = 0; i < ordered.size(); ++i) {
    EXPECT_EQ(compare_values(ordered[i], ordered[i]), 0) << ordered[i];
    for (size_t j = i + 1; j < ordered.size(); ++j) {
      EXPECT_LT(compare_values(ordered[i], ordered[j]), 0) << ordered[i] << " vs " << ordered[j];
      EXPECT_GT(compare_values(ordered[j], ordered[i]), 0) << ordered[j] << " vs " << ordered[i];
    }
  }
}

TEST(ValueOrder, NumbersCompareByValueAcrossRepresentations) {
  EXPECT_EQ(compare_values(1, 1.0), 0);
  EXPECT_EQ(compare_values(json(uint64_t{5}), json(int64_t{5})), 0);
  EXPECT_EQ(compare_values(-0.0, 0), 0);
  // 2^53 + 1 is not a double: exact comparison, not through double.
  EXPECT_LT(compare_values(9007199254740992.0, json(9007199254740993ULL)), 0);
  EXPECT_GT(compare_values(json(UINT64_MAX), json(INT64_MAX)), 0);
  EXPECT_GT(compare_values(json(INT64_MIN), -9.3e18), 0);
  EXPECT_LT(compare_values(json(INT64_MIN), -9.2e18), 0);
  EXPECT_EQ(compare_values(json(INT64_MIN), -9223372036854775808.0), 0);
  EXPECT_LT(compare_values(json(2), 2.5), 0);
  EXPECT_GT(compare_values(json(-2), -2.5), 0);
  const double nan = std::nan("");
  EXPECT_LT(compare_values(nan, -1e308), 0);
  EXPECT_LT(compare_values(nan, json(INT64_MIN)), 0);
  EXPECT_EQ(compare_values(nan, nan), 0);
}

class QueryTest : public testing::OneTree {
 protected:
  void SetUp() override {
    StoreDir::SetUp();
    open_tree("people");
    const std::vector<std::pair<std::string, json>> docs = {
        {"ada",
         {{"name", "Ada"},
          {"age", 36},
          {"tags", {"math", "poetry"}},
          {"address", {{"city", "London"}}}}},
        {"alan",
         {{"name", "Alan"},
          {"age", 41.5},
          {"tags", {"math"}},
          {"address", {{"city", "Wilmslow"}}}}},
        {"grace", {{"name", "Grace"}, {"age", 85}, {"tags", json::array()}}},
        {"kid", {{"name", "Kid"}, {"age", "unknown"}}},
        {"nobody", {{"name", nullptr}}},
        {"edsger",
         {{"name", "Edsger"}, {"age", 72}, {"tags", {"go-to"}}, {"address", {{"city", "Austin"}}}}},
    };
    for (const auto& [id, doc] : docs) ASSERT_TRUE(t_->stash(id, doc).ok());
  }
  Ids ids(const Query& q) {
    auto nuts = t_->query(q);
    EXPECT_TRUE(nuts.ok()) << nuts.error().message();
    Ids out;
    if (nuts.ok()) {
      for (const Nut& n : *nuts) out.push_back(n.id);
      auto count = t_->count(q);
      EXPECT_TRUE(count.ok());
      if (count.ok()) {
        EXPECT_EQ(*count, out.size());
      }
    }
    return out;
  }
};

TEST_F(QueryTest, ComparisonsMatchOnlyTheirOwnType) {
  EXPECT_EQ(ids(Query().where("age", Op::Ge, 40)), (Ids{"alan", "edsger", "grace"}));
  EXPECT_EQ(ids(Query().where("age", Op::Lt, 40)), (Ids{"ada"}));  // not "unknown", not absent
  EXPECT_EQ(ids(Query().where("age", Op::Gt, "a")), (Ids{"kid"}));
  EXPECT_EQ(ids(Query().where("age", Op::Eq, 36.0)), (Ids{"ada"}));
  EXPECT_EQ(ids(Query().where("age", Op::Ne, 36)), (Ids{"alan", "edsger", "grace", "kid"}));
  EXPECT_EQ(ids(Query().where("name", Op::Eq, nullptr)), (Ids{"nobody"}));
  EXPECT_EQ(ids(Query().where("age", Op::Gt, 40).where("age", Op::Le, 72)),
            (Ids{"alan", "edsger"}));
}

TEST_F(QueryTest, ExistsContainsPrefixAndPaths) {
  EXPECT_EQ(ids(Query().where("age", Op::NotExists)), (Ids{"nobody"}));
  EXPECT_EQ(ids(Query().where("name", Op::Exists)).size(), 6u);  // null counts as there
  EXPECT_EQ(ids(Query().where("tags", Op::Contains, "math")), (Ids{"ada", "alan"}));
  EXPECT_EQ(ids(Query().where("name", Op::Contains, "ra")), (Ids{"grace"}));
  EXPECT_EQ(ids(Query().where("name", Op::Prefix, "A")), (Ids{"ada", "alan"}));
  EXPECT_EQ(ids(Query().where("address.city", Op::Eq, "Austin")), (Ids{"edsger"}));
  EXPECT_EQ(ids(Query().where("/address/city", Op::Eq, "Austin")), (Ids{"edsger"}));
  EXPECT_EQ(ids(Query().where("tags.1", Op::Eq, "poetry")), (Ids{"ada"}));
  EXPECT_EQ(ids(Query().where("tags.01", Op::Exists)), Ids{});  // not an array index
}

TEST_F(QueryTest, OrderSkipTakeAndIdOrderByDefault) {
  EXPECT_EQ(ids(Query()), (Ids{"ada", "alan", "edsger", "grace", "kid", "nobody"}));
  // Absent first, then by type: numbers, then the string.
  EXPECT_EQ(ids(Query().order_by("age")), (Ids{"nobody", "ada", "alan", "edsger", "grace", "kid"}));
  EXPECT_EQ(ids(Query().order_by("age", Descending).skip(1).take(2)), (Ids{"grace", "edsger"}));
  EXPECT_EQ(ids(Query().take(2)), (Ids{"ada", "alan"}));
  EXPECT_EQ(ids(Query().take(0)), Ids{});
  EXPECT_EQ(ids(Query().skip(5)), (Ids{"nobody"}));
  EXPECT_EQ(ids(Query().skip(50)), Ids{});
  // Ties broken by the next key, then by id.
  EXPECT_EQ(ids(Query().where("tags", Op::Exists).order_by("tags.0").order_by("age", Descending)),
            (Ids{"grace", "edsger", "alan", "ada"}));
}

TEST_F(QueryTest, TimestampsNewestOldestBetween) {
  auto all = t_->query(Query().order_by_timestamp());
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 6u);
  // Stashed in this order: ada alan grace kid nobody edsger.
  EXPECT_EQ(ids(Query().oldest(2)), (Ids{"ada", "alan"}));
  EXPECT_EQ(ids(Query().newest(2)), (Ids{"edsger", "nobody"}));
  ASSERT_TRUE(t_->stash("ada", {{"name", "Ada"}, {"age", 37}}).ok());
  EXPECT_EQ(ids(Query().newest(1)), (Ids{"ada"}));
  const uint64_t t1 = (*all)[1].timestamp_ns, t3 = (*all)[3].timestamp_ns;
  EXPECT_EQ(ids(Query().between(t1, t3)), (Ids{"alan", "grace", "kid"}));
  EXPECT_EQ(ids(Query().between(t1, t3).between(t1 + 1, UINT64_MAX)), (Ids{"grace", "kid"}));
}

// An expired nut is absent to queries as to every read, through an index or not; a tossed
// one too.
TEST_F(QueryTest, ExpiredAndTossedNutsAreNotFound) {
  ASSERT_TRUE(t_->stash("old", {{"name", "Old"}, {"age", 50}}, {.expires_at_ns = 1}).ok());
  ASSERT_TRUE(t_->toss("alan").ok());
  const Ids expected = {"edsger", "grace"};
  EXPECT_EQ(ids(Query().where("age", Op::Ge, 40)), expected);
  ASSERT_TRUE(t_->create_index("age").ok());
  EXPECT_NE(t_->explain(Query().where("age", Op::Ge, 40))->text.find("age"), std::string::npos);
  EXPECT_EQ(ids(Query().where("age", Op::Ge, 40)), expected);
  ASSERT_TRUE(t_->purge_expired().ok());
  EXPECT_EQ(ids(Query().where("age", Op::Ge, 40)), expected);
  EXPECT_EQ(ids(Query().where("age", Op::Eq, 50)), Ids{});
}

TEST_F(QueryTest, BadQueriesNameTheField) {
  auto bad = t_->query(Query().where("a..b", Op::Eq, 1));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_NE(bad.error().message().find("tree `people`: query: field `a..b`"), std::string::npos)
      << bad.error().message();
  bad = t_->query(Query().where("name", Op::Prefix, 3));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("prefix needs a string"), std::string::npos);
  EXPECT_FALSE(t_->query(Query().order_by("")).ok());
}

TEST_F(QueryTest, ReadTxnQueriesOneSnapshot) {
  Status s = store_->read([&](const ReadTxn& txn) {
    ASSERT_TRUE(t_->stash("zed", {{"age", 1}}).ok());  // committed after the snapshot
    auto nuts = txn.query(*t_, Query().where("age", Op::Lt, 40));
    ASSERT_TRUE(nuts.ok());
    ASSERT_EQ(nuts->size(), 1u);
    EXPECT_EQ((*nuts)[0].id, "ada");
    EXPECT_EQ((*nuts)[0].payload["tags"], json({"math", "poetry"}));
  });
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(ids(Query().where("age", Op::Lt, 40)), (Ids{"ada", "zed"}));
}

// --- the property test ---

json random_value(std::mt19937& rng) {
  switch (rng() % 10) {
    case 0:
      return nullptr;
    case 1:
      return rng() % 2 == 0;
    case 2:
      return static_cast<double>(rng() % 20) / 4 - 1;  // -1 .. 3.75, some integral
    case 3:
      return 9007199254740992ULL + rng() % 3;  // beyond doubles' integers
    case 4:
      return std::string(600, 'x') + std::to_string(rng() % 3);  // longer than a key
    case 5:
      return json::array({static_cast<int>(rng() % 3)});
    case 6:
      return json{{"k", static_cast<int>(rng() % 2)}};
    default:
      return static_cast<int>(rng() % 6) - 1;
  }
}

json random_string(std::mt19937& rng) {
  static const char* kWords[] = {"", "a", "ab", "abc", "b", "ba", "c"};
  return kWords[rng() % 7];
}

json random_document(std::mt19937& rng) {
  json doc = json::object();
  if (rng() % 8) doc["a"] = random_value(rng);
  if (rng() % 4) doc["s"] = rng() % 6 ? random_string(rng) : random_value(rng);
  if (rng() % 3) doc["n"] = {{"x", random_value(rng)}};
  if (rng() % 2) doc["tags"] = {random_string(rng), random_string(rng)};
  return doc;
}

const std::vector<std::string> kFields = {"a", "s", "n.x", "tags", "tags.0"};

Condition random_condition(std::mt19937& rng) {
  static const Op kOps[] = {Op::Eq, Op::Ne,     Op::Lt,        Op::Le,       Op::Gt,
                            Op::Ge, Op::Exists, Op::NotExists, Op::Contains, Op::Prefix};
  Condition c;
  c.field = kFields[rng() % kFields.size()];
  c.op = kOps[rng() % 10];
  c.value = c.op == Op::Prefix || rng() % 3 == 0 ? random_string(rng) : random_value(rng);
  return c;
}

// The reference: what store_query.h says each condition means, over a plain scan.
const json* lookup(const json& doc, const std::string& field) {
  return field == "n.x"        ? (doc.contains("n") ? &doc["n"]["x"] : nullptr)
         : field == "tags.0"   ? (doc.contains("tags") ? &doc["tags"][0] : nullptr)
         : doc.contains(field) ? &doc[field]
                               : nullptr;
}

int type_of(const json& v) {
  return v.is_null()      ? 0
         : v.is_boolean() ? 1
         : v.is_number()  ? 2
         : v.is_string()  ? 3
         : v.is_array()   ? 4
                          : 5;
}

bool reference_match(const Condition& c, const json* v) {
  if (c.op == Op::NotExists) return !v;
  if (!v) return false;
  const int cmp = compare_values(*v, c.value);
  const bool same = type_of(*v) == type_of(c.value);
  switch (c.op) {
    case Op::Eq:
      return cmp == 0;
    case Op::Ne:
      return cmp != 0;
    case Op::Lt:
      return same && cmp < 0;
    case Op::Le:
      return same && cmp <= 0;
    case Op::Gt:
      return same && cmp > 0;
    case Op::Ge:
      return same && cmp >= 0;
    case Op::Exists:
      return true;
    case Op::Contains:
      if (v->is_array()) {
        return std::any_of(v->begin(), v->end(),
                           [&](const json& e) { return compare_values(e, c.value) == 0; });
      }
      return v->is_string() && c.value.is_string() &&
             v->get<std::string>().find(c.value.get<std::string>()) != std::string::npos;
    case Op::Prefix:
      return v->is_string() && v->get<std::string>().starts_with(c.value.get<std::string>());
    default:
      return false;
  }
}

Ids reference(const std::vector<Nut>& all, const Query& q) {
  std::vector<const Nut*> hits;
  for (const Nut& nut : all) {
    bool ok = nut.timestamp_ns >= q.from_ns() && nut.timestamp_ns <= q.to_ns();
    for (const Condition& c : q.conditions())
      ok = ok && reference_match(c, lookup(nut.payload, c.field));
    if (ok) hits.push_back(&nut);
  }
  std::sort(hits.begin(), hits.end(), [&](const Nut* a, const Nut* b) {
    for (const SortKey& k : q.sort_keys()) {
      int c;
      if (k.by_timestamp) {
        c = a->timestamp_ns < b->timestamp_ns ? -1 : a->timestamp_ns > b->timestamp_ns;
      } else {
        const json* x = lookup(a->payload, k.field);
        const json* y = lookup(b->payload, k.field);
        c = !x || !y ? int(x != nullptr) - int(y != nullptr) : compare_values(*x, *y);
      }
      if (c != 0) return k.order == Descending ? c > 0 : c < 0;
    }
    return a->id < b->id;
  });
  Ids out;
  for (size_t i = q.skip_count(); i < hits.size(); ++i) {
    if (q.has_take() && out.size() == q.take_count()) break;
    out.push_back(hits[i]->id);
  }
  return out;
}

Query random_query(std::mt19937& rng, const std::vector<Nut>& all) {
  Query q;
  for (unsigned i = rng() % 3; i > 0; --i) {
    Condition c = random_condition(rng);
    q.where(c.field, c.op, c.value);
  }
  if (rng() % 5 == 0 && !all.empty()) {
    q.between(all[rng() % all.size()].timestamp_ns, all[rng() % all.size()].timestamp_ns);
  }
  for (unsigned i = rng() % 3; i > 0; --i) {
    const Order order = rng() % 2 ? Descending : Ascending;
    if (rng() % 4 == 0) {
      q.order_by_timestamp(order);
    } else {
      q.order_by(kFields[rng() % 3], order);
    }
  }
  if (rng() % 3 == 0) q.skip(rng() % 10);
  if (rng() % 2 == 0) q.take(rng() % 15);
  return q;
}

class QueryProperty : public StoreDir, public ::testing::WithParamInterface<unsigned> {};

TEST_P(QueryProperty, IndexesNeverChangeResults) {
  std::mt19937 rng(GetParam());
  StoreOptions options;
  options.durability = Durability::NoSync;  // many small commits; durability is not what this tests
  Store store = open(options);
  Tree t = tree(store, "r");
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(t.stash("d" + std::to_string(rng() % 200), random_document(rng)).ok());
    if (rng() % 10 == 0) (void)t.toss("d" + std::to_string(rng() % 200));
  }
  std::vector<Nut> all;
  ASSERT_TRUE(t.scan({}, [&](Nut& n) { return all.push_back(n), true; }).ok());
  std::vector<Query> queries;
  for (int i = 0; i < 150; ++i) queries.push_back(random_query(rng, all));

  size_t indexed = 0;  // queries whose plan read an index
  auto check = [&](const char* stage) {
    indexed = 0;
    for (const Query& q : queries) {
      auto got = t.query(q);
      ASSERT_TRUE(got.ok()) << got.error().message();
      Ids ids;
      for (const Nut& n : *got) ids.push_back(n.id);
      auto plan = t.explain(q);
      ASSERT_TRUE(plan.ok());
      indexed += !plan->index.empty();
      ASSERT_EQ(ids, reference(all, q))
          << stage << ": " << q.to_string() << "\nplan: " << plan->text;
      auto count = t.count(q);
      ASSERT_TRUE(count.ok());
      EXPECT_EQ(*count, ids.size());
    }
  };
  check("no index");
  EXPECT_EQ(indexed, 0u);
  for (const char* field : {"a", "s", "n.x", "tags"}) ASSERT_TRUE(t.create_index(field).ok());
  check("indexed");
  EXPECT_GT(indexed, 30u);  // the indexes are used, not only present
  // Changes after the indexes were built are maintained by stash and toss.
  for (int i = 0; i < 200; ++i) {
    const std::string id = "d" + std::to_string(rng() % 200);
    if (rng() % 4 == 0) {
      (void)t.toss(id);
    } else {
      ASSERT_TRUE(t.stash(id, random_document(rng)).ok());
    }
  }
  all.clear();
  ASSERT_TRUE(t.scan({}, [&](Nut& n) { return all.push_back(n), true; }).ok());
  check("indexed, after changes");
}

INSTANTIATE_TEST_SUITE_P(Seeds, QueryProperty, ::testing::Values(1u, 2u, 3u, 42u, 1234u));

}  // namespace
}  // namespace wasm_sandbox::store
