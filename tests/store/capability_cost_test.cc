// What a nut costs a namespace (src/store/guest/space.cc, nut_cost): the same number when it is
// added, when it is overwritten or removed, and when recount() sums the stored nuts, on the
// documents where two ways of measuring JSON text would part (floats, integers at the int64 and
// uint64 edges, escapes, unicode, invalid UTF-8 planted by the host); and equal to the compact
// text's size (dump()) that the accounting charged before, so usage records written then still
// agree with what is stored. Quotas still refuse exactly past their boundary, and the usage
// record is read as before whatever form it is in.
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "store/capability_fixture.h"
#include "wasm_sandbox/store_capability.h"

namespace wasm_sandbox::store {
namespace {

using json = nlohmann::json;
using testing::raw_put;

// Guest texts whose compact form is where renderers differ.
const std::vector<std::string> kTrickyDocuments = {
    "0.1",
    "1e300",
    "-0.0",
    "0.0",
    "100.0",
    "1E2",
    "2.5e-8",
    "5e-324",
    "1.7976931348623157e308",
    "3.4028234663852886e38",  // FLT_MAX: stored as a float32
    "1.401298464324817e-45",  // the least float32: stored as one too
    "123456789.123456789",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",  // past uint64: a double
    "-9223372036854775809",  // past int64: a double
    "[0, -1, 127, 128, -32, -33, 255, 256, 65535, 65536, 4294967295, 4294967296]",
    R"("caf\u00e9 \ud83d\ude00 \u0000 \u001f \u007f \u2028")",
    "\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\"",  // raw UTF-8
    R"("\"\\\/\b\f\n\r\t")",
    R"({"k\"ey":1,"\u00e9":[0.1,-0.0],"a\nb":"x"})",
    R"({"z":1,"a":{"y":2.50,"b":[3,{"c":null}]}})",
    R"({"a":1,"a":2})",
    R"([true,false,null,{},[],""])",
};

class CapabilityCost : public testing::CapabilityFixture {
 protected:
  static GuestUsage usage(const StoreCapability& capability) {
    auto usage = capability.usage();
    if (!usage.ok()) ADD_FAILURE() << usage.error().message();
    return usage.ok() ? *usage : GuestUsage{};
  }
  // The usage as kept, which recount() must reproduce from the nuts alone. (Compared before
  // recount() rewrites it, so a drift is seen where it happens.)
  static void expect_recount_agrees(const StoreCapability& capability, const std::string& step) {
    const GuestUsage kept = usage(capability);
    auto recounted = capability.recount();
    ASSERT_TRUE(recounted.ok()) << recounted.error().message();
    EXPECT_EQ(*recounted, kept) << step;
  }
};

// Each document alone: added, it costs its key plus dump()'s size (what the accounting has
// always charged); recounted, the same; removed, the usage is back to zero.
TEST_F(CapabilityCost, EachDocumentCostsTheSameAddedRecountedAndRemoved) {
  StoreCapability alice = grant("alice");
  for (const std::string& text : kTrickyDocuments) {
    const uint64_t cost = 3 + json::parse(text).dump().size();
    ASSERT_TRUE(alice.put("doc", text).ok()) << text;
    EXPECT_EQ(*alice.get("doc"), json::parse(text).dump()) << text;
    EXPECT_EQ(usage(alice), (GuestUsage{cost, 1})) << text;
    expect_recount_agrees(alice, text);
    ASSERT_TRUE(alice.erase("doc").ok()) << text;
    EXPECT_EQ(usage(alice), (GuestUsage{0, 0})) << text;
    expect_recount_agrees(alice, text);
  }
}

// Every document overwritten by every other one, then all removed: at every step the usage is
// the sum over what is stored, as a model charges it and as recount() finds it.
TEST_F(CapabilityCost, UsageAfterPutsOverwritesAndErasesEqualsRecount) {
  StoreCapability alice = grant("alice", {.max_bytes = 1 << 20, .max_keys = 100});
  std::map<std::string, std::string> model;  // key -> compact text
  auto expected = [&] {
    GuestUsage sum;
    for (const auto& [key, text] : model)
      sum = {sum.bytes + key.size() + text.size(), sum.keys + 1};
    return sum;
  };
  const size_t n = kTrickyDocuments.size();
  std::mt19937 random(11);
  for (size_t step = 0; step < 6 * n; ++step) {
    const std::string key = "k" + std::to_string(random() % 8);
    const std::string& text = kTrickyDocuments[(step * 7) % n];
    if (step % 5 == 4) {
      EXPECT_EQ(alice.erase(key).ok(), model.erase(key) == 1);
    } else {
      ASSERT_TRUE(alice.put(key, text).ok()) << text;
      model[key] = json::parse(text).dump();
    }
    ASSERT_EQ(usage(alice), expected()) << "step " << step << ": " << text;
    expect_recount_agrees(alice, "step " + std::to_string(step));
  }
  while (!model.empty()) {
    ASSERT_TRUE(alice.erase(model.begin()->first).ok());
    model.erase(model.begin());
    ASSERT_EQ(usage(alice), expected());
  }
  EXPECT_EQ(usage(alice), (GuestUsage{0, 0}));
}

// Nuts the host stashes directly may hold what no guest text can (invalid UTF-8, binary): their
// cost is dump()'s with U+FFFD replacements, the same at recount, at overwrite and at erase.
TEST_F(CapabilityCost, HostPlantedNutsCostTheSameWhenCountedReplacedAndRemoved) {
  StoreCapability alice = grant("alice");
  Tree guests = tree(*store_, "guests");
  const json planted = {
      {"bad", "a\xff\xfe b \xc3"}, {"bin", json::binary({1, 2, 3}, 7)}, {"f", {0.1, -0.0, 1e300}}};
  const uint64_t planted_cost =
      7 + planted.dump(-1, ' ', false, json::error_handler_t::replace).size();
  ASSERT_TRUE(guests.stash("alice/planted", planted).ok());
  ASSERT_TRUE(guests.stash("alice/planted2", planted).ok());
  EXPECT_EQ(*alice.recount(), (GuestUsage{planted_cost + planted_cost + 1, 2}));
  // Overwritten by a guest's put: its cost comes off exactly.
  ASSERT_TRUE(alice.put("planted", "1").ok());
  EXPECT_EQ(usage(alice), (GuestUsage{7 + 1 + planted_cost + 1, 2}));
  expect_recount_agrees(alice, "after overwrite");
  ASSERT_TRUE(alice.erase("planted2").ok());
  EXPECT_EQ(usage(alice), (GuestUsage{7 + 1, 1}));
  expect_recount_agrees(alice, "after erase");
}

// The quotas refuse one byte (one key) past them and nothing before, with a document whose
// stored text is not its input text.
TEST_F(CapabilityCost, QuotasRefuseExactlyPastTheBoundary) {
  const std::string text =
      R"({ "f" : 0.10, "s" : "caf\u00e9", "n" : -0.0, "u" : 18446744073709551615 })";
  const uint64_t cost = 1 + json::parse(text).dump().size();
  StoreCapability alice = grant("alice", {.max_bytes = cost + 3, .max_keys = 2});
  ASSERT_TRUE(alice.put("a", text).ok());
  ASSERT_TRUE(alice.put("b", "0").ok());  // 2 bytes: one short of the quota
  EXPECT_EQ(usage(alice), (GuestUsage{cost + 2, 2}));
  Status at = alice.put("b", "10");  // 3 bytes: exactly the quota
  ASSERT_TRUE(at.ok()) << at.error().message();
  EXPECT_EQ(usage(alice), (GuestUsage{cost + 3, 2}));
  for (const char* past : {"100", "1.0", "0.5", "\"x\""}) {  // 4 bytes: one past
    Status refused = alice.put("b", past);
    ASSERT_FALSE(refused.ok()) << past;
    EXPECT_EQ(refused.error().kind(), ErrorKind::LimitExceeded) << past;
  }
  EXPECT_EQ(*alice.get("b"), "10");
  EXPECT_EQ(usage(alice), (GuestUsage{cost + 3, 2}));
  EXPECT_TRUE(alice.put("b", "-1").ok());  // the same 3 bytes
  Status third = alice.put("c", "1");
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().kind(), ErrorKind::LimitExceeded);
  EXPECT_NE(third.error().message().find("keys, over the quota of 2"), std::string::npos);
  EXPECT_TRUE(alice.erase("b").ok());
  EXPECT_TRUE(alice.put("c", "1").ok());
  expect_recount_agrees(alice, "boundary");
}

// Usage records in forms this code does not write (extra fields, wide numbers) read as before;
// records that are not one fail as before.
TEST_F(CapabilityCost, UsageRecordsInOtherFormsReadAsBefore) {
  StoreCapability alice = grant("alice", {.max_bytes = uint64_t{1} << 50, .max_keys = 1 << 20});
  Tree usage_tree = tree(*store_, "guests.usage");
  const std::vector<std::pair<json, GuestUsage>> forms = {
      {{{"bytes", 300}, {"keys", 2}, {"note", "host"}}, {300, 2}},
      {{{"bytes", uint64_t{1} << 40}, {"keys", 70000}}, {uint64_t{1} << 40, 70000}},
      {{{"bytes", 200}, {"keys", 300}}, {200, 300}},
      {{{"bytes", std::numeric_limits<uint64_t>::max()}, {"keys", 0}},
       {std::numeric_limits<uint64_t>::max(), 0}},
  };
  for (const auto& [record, expected] : forms) {
    ASSERT_TRUE(usage_tree.stash("alice", record).ok());
    EXPECT_EQ(usage(alice), expected) << record.dump();
  }
  for (const json& bad : {json{{"bytes", -1}, {"keys", 1}}, json{{"bytes", 1.5}, {"keys", 1}},
                          json{{"keys", 1}}, json::array({1, 2}), json("bytes")}) {
    ASSERT_TRUE(usage_tree.stash("alice", bad).ok());
    auto read = alice.usage();
    ASSERT_FALSE(read.ok()) << bad.dump();
    EXPECT_EQ(read.error().kind(), ErrorKind::Io);
    EXPECT_NE(read.error().message().find("recount"), std::string::npos);
  }
  EXPECT_EQ(*alice.recount(), (GuestUsage{0, 0}));
  ASSERT_TRUE(alice.put("k", "1").ok());
  EXPECT_EQ(usage(alice), (GuestUsage{2, 1}));
}

// A nut whose header is sound but whose payload is not MessagePack: its cost is unknown, so a
// put over it fails, recount() fails naming it, and an erase removes it and recounts.
TEST_F(CapabilityCost, CorruptPayloadsFailPutAndRecountAndCanBeErased) {
  {
    StoreCapability alice = grant("alice");
    ASSERT_TRUE(alice.put("good", "[1]").ok());
    ASSERT_TRUE(alice.put("bad", "[2]").ok());
  }
  store_.reset();
  // Flags 0, version 1, timestamp 1, seq 0, then a payload of 0xc1 (never valid).
  raw_put(dir_, "guests", "alice/bad",
          std::string("\0\1\0\0\0\0\0\0\0\1\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\xc1", 26));
  store_ = open();
  StoreCapability alice = grant("alice");
  for (const Error& error :
       {alice.get("bad").error(), alice.put("bad", "3").error(), alice.recount().error()}) {
    EXPECT_EQ(error.kind(), ErrorKind::Io);
    EXPECT_EQ(error.message(), "tree `guests`, id `alice/bad`: corrupt stored value");
  }
  EXPECT_EQ(usage(alice), (GuestUsage{4 + 3 + 3 + 3, 2}));  // as it was
  ASSERT_TRUE(alice.erase("bad").ok());
  EXPECT_EQ(usage(alice), (GuestUsage{4 + 3, 1}));
  EXPECT_FALSE(*alice.exists("bad"));
}

}  // namespace
}  // namespace wasm_sandbox::store
