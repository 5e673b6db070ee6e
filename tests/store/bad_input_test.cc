// Bad input: malformed JSON, oversize and empty ids, oversize documents, corrupt values.
// Every one is a clear error naming the tree and the id, and changes nothing stored.
#include "store/store_test_util.h"

namespace wasm_sandbox::store {
namespace {

using testing::raw_put;
using testing::StoreDir;
using StoreCorruption = StoreDir;

class StoreBadInput : public testing::OneTree {
 protected:
  void SetUp() override {
    StoreDir::SetUp();
    StoreOptions options;
    options.max_document_bytes = 1024;
    open_tree("t", options);
    ASSERT_TRUE(t_->stash("k", {{"v", 1}}).ok());
  }
  // The tree still holds exactly the nut SetUp stashed.
  void expect_unchanged() {
    EXPECT_EQ(*t_->count(), 1u);
    auto nut = t_->crack("k");
    ASSERT_TRUE(nut.ok());
    EXPECT_EQ(nut->payload["v"], 1);
    EXPECT_EQ(nut->version, 1u);
  }
};

TEST_F(StoreBadInput, MalformedJsonText) {
  using namespace std::string_view_literals;
  for (std::string_view text : {R"({"v": )"sv, ""sv, "{} {}"sv, "[1,]"sv, "nul"sv, R"({"v": 2)"sv,
                                "{\"v\":2}\0garbage"sv}) {
    auto version = t_->stash_text("k", text);
    ASSERT_FALSE(version.ok()) << text;
    EXPECT_EQ(version.error().kind(), ErrorKind::InvalidArgument);
    const std::string& message = version.error().message();
    EXPECT_NE(message.find("tree `t`, id `k`"), std::string::npos) << message;
    EXPECT_NE(message.find("malformed JSON"), std::string::npos) << message;
  }
  auto detail = t_->stash_text("k", "[1, 2, }");
  EXPECT_NE(detail.error().message().find("syntax error"), std::string::npos)
      << detail.error().message();
  expect_unchanged();
  // Well-formed text goes in.
  ASSERT_TRUE(t_->stash_text("k2", R"({"a": [1, 2.5, "x", null, true]})").ok());
  EXPECT_EQ(t_->crack("k2")->payload["a"][1], 2.5);
}

TEST_F(StoreBadInput, OversizeId) {
  std::string id(512, 'i');
  auto version = t_->stash(id, 1);
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_NE(version.error().message().find("tree `t`"), std::string::npos);
  EXPECT_NE(version.error().message().find("512 bytes"), std::string::npos)
      << version.error().message();
  EXPECT_NE(version.error().message().find("iiii"), std::string::npos);
  EXPECT_EQ(t_->crack(id).error().kind(), ErrorKind::InvalidArgument);
  EXPECT_EQ(t_->toss(id).error().kind(), ErrorKind::InvalidArgument);
  EXPECT_EQ(t_->exists(id).error().kind(), ErrorKind::InvalidArgument);
  expect_unchanged();
}

TEST_F(StoreBadInput, EmptyId) {
  auto version = t_->stash("", 1);
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_EQ(version.error().message(), "tree `t`: empty id");
  EXPECT_FALSE(t_->stash(nlohmann::json{{"id", ""}}).ok());
  EXPECT_FALSE(t_->stash_text("", "1").ok());
  expect_unchanged();
}

TEST_F(StoreBadInput, OversizeDocument) {
  auto version = t_->stash("k", {{"v", std::string(2000, 'x')}});
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.error().kind(), ErrorKind::LimitExceeded);
  EXPECT_NE(version.error().message().find("tree `t`, id `k`"), std::string::npos);
  EXPECT_NE(version.error().message().find("max_document_bytes"), std::string::npos);
  expect_unchanged();
  EXPECT_TRUE(t_->stash("near", std::string(1000, 'x')).ok());
}

TEST_F(StoreBadInput, IdsInMessagesAreQuotedAndShortened) {
  auto missing = t_->crack(std::string("\x01\xfe", 2) + std::string(100, 'a'));
  ASSERT_FALSE(missing.ok());
  const std::string& message = missing.error().message();
  EXPECT_NE(message.find("`\\x01\\xfe"), std::string::npos) << message;
  EXPECT_NE(message.find("...`"), std::string::npos) << message;
  EXPECT_LT(message.size(), 200u);
}

TEST_F(StoreCorruption, StoredValuesThatDoNotDecodeAreIoErrorsNamingTheNut) {
  {
    Store store = open();
    Tree t = tree(store, "t");
    ASSERT_TRUE(t.stash("fine", 1).ok());
  }
  raw_put(dir_, "t", "short", "abc");                    // shorter than a header
  raw_put(dir_, "t", "flags", std::string(25, '\x80'));  // unknown flag bits
  // A valid header (version 1, timestamp 1, seq 0) and a body that is not MessagePack (0xc1 is
  // never used).
  raw_put(dir_, "t", "body",
          std::string("\0\1\0\0\0\0\0\0\0\1\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\xc1", 26));
  Store store = open();
  Tree t = tree(store, "t");
  for (const char* id : {"short", "flags", "body"}) {
    auto nut = t.crack(id);
    ASSERT_FALSE(nut.ok()) << id;
    EXPECT_EQ(nut.error().kind(), ErrorKind::Io);
    EXPECT_EQ(nut.error().message(),
              "tree `t`, id `" + std::string(id) + "`: corrupt stored value");
  }
  // A stash over a corrupt header refuses (its version is unknown); a scan stops at it.
  EXPECT_EQ(t.stash("short", 1).error().kind(), ErrorKind::Io);
  Status scanned = t.scan({}, [](Nut&) { return true; });
  ASSERT_FALSE(scanned.ok());
  EXPECT_EQ(scanned.error().kind(), ErrorKind::Io);
  // The rest of the tree is unharmed, and a corrupt nut can be tossed.
  EXPECT_EQ(t.crack("fine")->payload, 1);
  EXPECT_TRUE(t.toss("body").ok());
  // So can one whose header does not decode; the feed then shows the tombstone, once.
  EXPECT_TRUE(t.toss("short").ok());
  EXPECT_FALSE(*t.exists("short"));
  auto changes = t.changes(0);
  ASSERT_TRUE(changes.ok()) << changes.error().message();
  int shorts = 0;
  for (const Change& change : *changes) shorts += change.nut.id == "short" && change.deleted;
  EXPECT_EQ(shorts, 1);
}

}  // namespace
}  // namespace wasm_sandbox::store
