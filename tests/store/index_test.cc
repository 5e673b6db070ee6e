// Secondary indexes: creation over existing nuts, maintenance by stash/toss/batch in the same
// transaction, what explain() says, persistence, snapshots, limits.
#include <vector>

#include "store/store_test_util.h"

namespace wasm_sandbox::store {
namespace {

using json = nlohmann::json;
using testing::StoreDir;
using Ids = std::vector<std::string>;

class IndexTest : public testing::OneTree {
 protected:
  void SetUp() override {
    StoreDir::SetUp();
    open_tree();
  }
  Ids ids(const Query& q) {
    auto nuts = t_->query(q);
    EXPECT_TRUE(nuts.ok()) << nuts.error().message();
    Ids out;
    if (nuts.ok()) {
      for (const Nut& n : *nuts) out.push_back(n.id);
    }
    return out;
  }
  std::string index_of(const Query& q) {
    auto plan = t_->explain(q);
    EXPECT_TRUE(plan.ok());
    return plan.ok() ? plan->index : "?";
  }
};

TEST_F(IndexTest, BuiltOverExistingNutsAndUsedByRangeQueries) {
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(t_->stash("n" + std::to_string(i), {{"v", i}}).ok());
  const Query q = Query().where("v", Op::Ge, 10).where("v", Op::Lt, 13);
  EXPECT_EQ(index_of(q), "");
  EXPECT_EQ(ids(q), (Ids{"n10", "n11", "n12"}));
  ASSERT_TRUE(t_->create_index("v").ok());
  ASSERT_TRUE(t_->create_index("v").ok());  // again: nothing to do
  EXPECT_EQ(t_->indexes(), (std::vector<std::string>{"v"}));
  auto plan = t_->explain(q);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->index, "v");
  EXPECT_EQ(plan->index_conditions.size(), 2u);
  EXPECT_EQ(plan->text.find("index `v` range v >= 10 and v < 13"), 0u) << plan->text;
  EXPECT_EQ(ids(q), (Ids{"n10", "n11", "n12"}));
  // Not for conditions an index cannot bound.
  EXPECT_EQ(index_of(Query().where("v", Op::Ne, 3)), "");
  EXPECT_EQ(index_of(Query().where("w", Op::Eq, 3)), "");
}

TEST_F(IndexTest, OrderByAnIndexedFieldStopsEarly) {
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(t_->stash("n" + std::to_string(i), {{"v", (i * 7) % 30}}).ok());
  }
  ASSERT_TRUE(t_->stash("none", {{"w", 1}}).ok());  // sorts first: absent
  ASSERT_TRUE(t_->create_index("v").ok());
  const Query top = Query().order_by("v", Descending).take(3);
  auto plan = t_->explain(top);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->index, "v");
  EXPECT_TRUE(plan->index_order);
  EXPECT_NE(plan->text.find("stops after 3"), std::string::npos) << plan->text;
  EXPECT_EQ(ids(top), (Ids{"n17", "n4", "n21"}));  // v = 29, 28, 27
  EXPECT_EQ(ids(Query().order_by("v").take(2)), (Ids{"none", "n0"}));
  // Without take() a scan and a sort are cheaper than reading every nut through the index.
  EXPECT_EQ(index_of(Query().order_by("v")), "");
}

TEST_F(IndexTest, StashTossAndOverwriteKeepItCurrent) {
  ASSERT_TRUE(t_->create_index("city").ok());
  ASSERT_TRUE(t_->stash("a", {{"city", "Paris"}}).ok());
  ASSERT_TRUE(t_->stash("b", {{"city", "Rome"}}).ok());
  const Query paris = Query().where("city", Op::Eq, "Paris");
  EXPECT_EQ(index_of(paris), "city");
  EXPECT_EQ(ids(paris), (Ids{"a"}));
  ASSERT_TRUE(t_->stash("b", {{"city", "Paris"}}).ok());            // moved
  ASSERT_TRUE(t_->stash("a", {{"city", "Paris"}, {"n", 1}}).ok());  // same key
  EXPECT_EQ(ids(paris), (Ids{"a", "b"}));
  EXPECT_EQ(ids(Query().where("city", Op::Eq, "Rome")), Ids{});
  ASSERT_TRUE(t_->toss("a").ok());
  EXPECT_EQ(ids(paris), (Ids{"b"}));
  ASSERT_TRUE(t_->stash("b", {{"town", "Paris"}}).ok());  // field gone
  EXPECT_EQ(ids(paris), Ids{});
  EXPECT_EQ(ids(Query().where("city", Op::NotExists)), (Ids{"b"}));
  EXPECT_EQ(index_of(Query().where("city", Op::NotExists)), "city");
}

TEST_F(IndexTest, AnAbortedBatchLeavesTheIndexUnchanged) {
  ASSERT_TRUE(t_->create_index("v").ok());
  ASSERT_TRUE(t_->stash("a", {{"v", 1}}).ok());
  ASSERT_TRUE(t_->stash("b", {{"v", 2}}).ok());
  Status failed = store_->batch([&](Batch& b) {
    b.stash(*t_, "a", {{"v", 5}});
    b.toss(*t_, "b");
    b.stash(*t_, "c", {{"v", 5}});
    b.toss(*t_, "missing");  // fails: nothing of the batch is kept
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(ids(Query().where("v", Op::Eq, 5)), Ids{});
  EXPECT_EQ(ids(Query().where("v", Op::Le, 2)), (Ids{"a", "b"}));
  Status aborted = store_->write([&](WriteTxn& txn) -> Status {
    EXPECT_TRUE(txn.stash(*t_, "a", {{"v", 9}}).ok());
    // The transaction's own reads see its index changes.
    auto inside = txn.query(*t_, Query().where("v", Op::Eq, 9));
    EXPECT_TRUE(inside.ok() && inside->size() == 1);
    return Error(ErrorKind::Internal, "abort");
  });
  ASSERT_FALSE(aborted.ok());
  EXPECT_EQ(ids(Query().where("v", Op::Eq, 9)), Ids{});
  EXPECT_EQ(ids(Query().where("v", Op::Eq, 1)), (Ids{"a"}));
}

TEST_F(IndexTest, PersistsAcrossReopenAndDropRemovesIt) {
  ASSERT_TRUE(t_->create_index("address.city").ok());
  ASSERT_TRUE(t_->create_index("/a.b").ok());
  ASSERT_TRUE(t_->stash("x", {{"address", {{"city", "Oslo"}}}, {"a.b", 1}}).ok());
  t_.reset();
  store_.reset();
  store_ = open();
  t_.emplace(tree(*store_, "t"));
  EXPECT_EQ(t_->indexes(), (std::vector<std::string>{"/a.b", "address.city"}));
  ASSERT_TRUE(t_->stash("y", {{"address", {{"city", "Oslo"}}}}).ok());  // maintained
  const Query oslo = Query().where("/address/city", Op::Eq, "Oslo");    // either spelling
  EXPECT_EQ(index_of(oslo), "address.city");
  EXPECT_EQ(ids(oslo), (Ids{"x", "y"}));
  EXPECT_EQ(ids(Query().where("/a.b", Op::Eq, 1)), (Ids{"x"}));

  ASSERT_TRUE(t_->drop_index("/address/city").ok());
  auto again = t_->drop_index("address.city");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind(), ErrorKind::NotFound);
  EXPECT_NE(again.error().message().find("tree `t`, index `address.city`: no such index"),
            std::string::npos)
      << again.error().message();
  EXPECT_EQ(index_of(oslo), "");
  EXPECT_EQ(ids(oslo), (Ids{"x", "y"}));
  ASSERT_TRUE(t_->stash("z", {{"address", {{"city", "Oslo"}}}}).ok());
  // Created again: built afresh, not from the dropped one's entries.
  ASSERT_TRUE(t_->create_index("address.city").ok());
  EXPECT_EQ(ids(oslo), (Ids{"x", "y", "z"}));
  t_.reset();
  store_.reset();
  store_ = open();
  t_.emplace(tree(*store_, "t"));
  EXPECT_EQ(t_->indexes(), (std::vector<std::string>{"/a.b", "address.city"}));
}

TEST_F(IndexTest, IndexesAreSeparatePerTree) {
  Tree other = tree(*store_, "other");
  ASSERT_TRUE(t_->create_index("v").ok());
  ASSERT_TRUE(other.stash("o", {{"v", 1}}).ok());
  ASSERT_TRUE(t_->stash("t", {{"v", 1}}).ok());
  EXPECT_TRUE(other.indexes().empty());
  auto in_other = other.query(Query().where("v", Op::Eq, 1));
  ASSERT_TRUE(in_other.ok());
  ASSERT_EQ(in_other->size(), 1u);
  EXPECT_EQ((*in_other)[0].id, "o");
  EXPECT_EQ(ids(Query().where("v", Op::Eq, 1)), (Ids{"t"}));
}

TEST_F(IndexTest, ASnapshotOlderThanTheIndexScans) {
  ASSERT_TRUE(t_->stash("a", {{"v", 1}}).ok());
  Status s = store_->read([&](const ReadTxn& txn) {
    ASSERT_TRUE(t_->create_index("v").ok());
    ASSERT_TRUE(t_->stash("b", {{"v", 1}}).ok());
    auto plan = txn.explain(*t_, Query().where("v", Op::Eq, 1));
    ASSERT_TRUE(plan.ok());
    EXPECT_EQ(plan->index, "");  // the index is not in this snapshot
    auto nuts = txn.query(*t_, Query().where("v", Op::Eq, 1));
    ASSERT_TRUE(nuts.ok());
    ASSERT_EQ(nuts->size(), 1u);
    EXPECT_EQ((*nuts)[0].id, "a");
  });
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(index_of(Query().where("v", Op::Eq, 1)), "v");
  EXPECT_EQ(ids(Query().where("v", Op::Eq, 1)), (Ids{"a", "b"}));
}

TEST_F(IndexTest, LongStringsAndBigIntegersAreReChecked) {
  ASSERT_TRUE(t_->create_index("s").ok());
  ASSERT_TRUE(t_->create_index("n").ok());
  const std::string base(700, 'x');
  ASSERT_TRUE(t_->stash("a", {{"s", base + "a"}, {"n", 9007199254740993ULL}}).ok());
  ASSERT_TRUE(t_->stash("b", {{"s", base + "b"}, {"n", 9007199254740992ULL}}).ok());
  EXPECT_EQ(ids(Query().where("s", Op::Eq, base + "b")), (Ids{"b"}));
  EXPECT_EQ(ids(Query().where("s", Op::Gt, base + "a")), (Ids{"b"}));
  EXPECT_EQ(ids(Query().where("n", Op::Eq, 9007199254740993ULL)), (Ids{"a"}));
  EXPECT_EQ(ids(Query().where("n", Op::Gt, 0).order_by("n").take(1)), (Ids{"b"}));
  EXPECT_EQ(ids(Query().order_by("s", Descending).take(1)), (Ids{"b"}));
}

TEST_F(IndexTest, BadFieldsAndTheLimit) {
  auto bad = t_->create_index("a..b");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_FALSE(t_->create_index(std::string(300, 'f')).ok());
  t_.reset();
  store_.reset();
  StoreOptions options;
  options.max_indexes = 2;
  store_ = open(options);
  t_.emplace(tree(*store_, "t"));
  ASSERT_TRUE(t_->create_index("a").ok());
  ASSERT_TRUE(t_->create_index("b").ok());
  auto third = t_->create_index("c");
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().kind(), ErrorKind::LimitExceeded);
  EXPECT_NE(third.error().message().find("max_indexes"), std::string::npos);
  // Trees are counted apart from indexes: with one tree allowed, the indexes take no tree's
  // place, and the second tree is refused.
  t_.reset();
  store_.reset();
  options.max_trees = 1;
  store_ = open(options);
  t_.emplace(tree(*store_, "t"));
  EXPECT_EQ(t_->indexes().size(), 2u);
  auto second = store_->tree("u");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().kind(), ErrorKind::LimitExceeded);
}

TEST_F(IndexTest, TossOfACorruptNutRemovesItsEntries) {
  ASSERT_TRUE(t_->create_index("v").ok());
  ASSERT_TRUE(t_->stash("a", {{"v", 1}}).ok());
  ASSERT_TRUE(t_->stash("b", {{"v", 1}}).ok());
  t_.reset();
  store_.reset();
  // A valid header, then bytes that are not MessagePack.
  std::string value(17, '\0');
  value[1] = 1;
  value += "\xc1";
  testing::raw_put(dir_, "t", "a", value);
  store_ = open();
  t_.emplace(tree(*store_, "t"));
  auto corrupt = t_->query(Query().where("v", Op::Eq, 1));
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.error().kind(), ErrorKind::Io);
  EXPECT_NE(corrupt.error().message().find("id `a`: corrupt stored value"), std::string::npos);
  ASSERT_TRUE(t_->toss("a").ok());
  EXPECT_EQ(ids(Query().where("v", Op::Eq, 1)), (Ids{"b"}));
  EXPECT_EQ(ids(Query().where("v", Op::Exists)), (Ids{"b"}));
}

}  // namespace
}  // namespace wasm_sandbox::store
