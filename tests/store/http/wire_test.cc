// The JSON wire format of a change (src/store/http/wire.h): lossless for any id, payload and
// 64-bit integer, and strict about what it reads.
#include "store/http/wire.h"

#include <gtest/gtest.h>

#include <cmath>

namespace wasm_sandbox::store::wire {
namespace {

using json = nlohmann::json;

Change round_trip(const Change& change) {
  std::string text;
  append_change(change, &text);
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(value.is_discarded()) << text;
  auto back = parse_change(value, "change 0");
  EXPECT_TRUE(back.ok()) << back.error().message();
  return back.ok() ? std::move(*back) : Change{};
}

Change make(std::string id, json payload) {
  Change c;
  c.nut.id = std::move(id);
  c.nut.payload = std::move(payload);
  c.nut.version = 3;
  c.nut.timestamp_ns = 1'700'000'000'123'456'789ull;
  c.seq = 12;
  return c;
}

TEST(SyncWire, AChangeRoundTripsWithItsFieldsInTheDocumentedShape) {
  Change c = make("alice", {{"age", 31}, {"tags", {"a", "b"}}});
  c.nut.expires_at_ns = 1'800'000'000'000'000'000ull;
  std::string text;
  append_change(c, &text);
  EXPECT_EQ(json::parse(text),
            json::parse(R"({"id":"alice","version":3,"timestamp":1700000000123456789,
                            "expiry":1800000000000000000,"deleted":false,"seq":12,
                            "payload":{"age":31,"tags":["a","b"]}})"));
  Change back = round_trip(c);
  EXPECT_EQ(back.nut.id, "alice");
  EXPECT_EQ(back.nut.payload, c.nut.payload);
  EXPECT_EQ(back.nut.expires_at_ns, c.nut.expires_at_ns);
  EXPECT_EQ(back.seq, 12u);
  EXPECT_FALSE(back.deleted);
}

TEST(SyncWire, SixtyFourBitIntegersRoundTripExactly) {
  Change c = make("k", {{"big", ~uint64_t{0}}, {"neg", INT64_MIN}});
  c.nut.version = ~uint64_t{0} - 1;
  c.nut.timestamp_ns = ~uint64_t{0} - 1;
  c.nut.expires_at_ns = ~uint64_t{0};
  c.seq = ~uint64_t{0};
  Change back = round_trip(c);
  EXPECT_EQ(back.nut.version, ~uint64_t{0} - 1);
  EXPECT_EQ(back.nut.timestamp_ns, ~uint64_t{0} - 1);
  EXPECT_EQ(back.nut.expires_at_ns, ~uint64_t{0});
  EXPECT_EQ(back.seq, ~uint64_t{0});
  EXPECT_EQ(back.nut.payload["big"].get<uint64_t>(), ~uint64_t{0});
  EXPECT_EQ(back.nut.payload["neg"].get<int64_t>(), INT64_MIN);
}

TEST(SyncWire, IdsThatAreNotUtf8TravelAsHex) {
  const std::string id(
      "\xff\x00"
      "a\x80",
      4);
  Change c = make(id, "x");
  std::string text;
  append_change(c, &text);
  const json value = json::parse(text);
  EXPECT_FALSE(value.contains("id"));
  EXPECT_EQ(value["id_hex"], "ff006180");
  EXPECT_EQ(round_trip(c).nut.id, id);
  // UTF-8 with control bytes and a NUL stays a string, escaped.
  const std::string utf8("caf\xc3\xa9\n\x00\"\\", 9);
  std::string plain;
  append_change(make(utf8, 1), &plain);
  EXPECT_TRUE(json::parse(plain).contains("id")) << plain;
  EXPECT_EQ(round_trip(make(utf8, 1)).nut.id, utf8);
}

TEST(SyncWire, PayloadsJsonTextCannotHoldTravelAsMessagePack) {
  for (const json& payload :
       {json{{"s", std::string("\xc0\xaf")}}, json{{std::string("k\xff"), 1}},
        json{{"nan", std::nan("")}, {"inf", INFINITY}}, json::binary({1, 2, 3})}) {
    std::string text;
    append_change(make("k", payload), &text);
    EXPECT_TRUE(json::parse(text).contains("payload_msgpack_hex")) << text;
    const json back = round_trip(make("k", payload)).nut.payload;
    EXPECT_EQ(json::to_msgpack(back), json::to_msgpack(payload));
  }
}

TEST(SyncWire, ATombstoneHasANullPayloadAndNoExpiry) {
  Change c = make("gone", nullptr);
  c.deleted = true;
  Change back = round_trip(c);
  EXPECT_TRUE(back.deleted);
  EXPECT_TRUE(back.nut.payload.is_null());
  EXPECT_FALSE(back.nut.expires_at_ns);
}

TEST(SyncWire, MalformedChangesNameTheFieldAndTheNut) {
  const json good = json::parse(
      R"({"id":"k","version":1,"timestamp":2,"expiry":null,"deleted":false,"seq":3,"payload":1})");
  ASSERT_TRUE(parse_change(good, "change 0").ok());
  struct Case {
    const char* edit;  // a JSON merge patch applied to `good`
    const char* message;
  };
  for (const Case& c : {
           Case{R"({"version":null})", "change 0 (id `k`): field `version` is missing"},
           Case{R"({"version":-1})", "field `version` is not an unsigned 64-bit integer"},
           Case{R"({"version":1.5})", "field `version` is not an unsigned"},
           Case{R"({"timestamp":"2"})", "field `timestamp` is not an unsigned"},
           Case{R"({"seq":0})", "field `seq` is 0"},
           Case{R"({"deleted":"no"})", "field `deleted` is not true or false"},
           Case{R"({"expiry":"soon"})", "field `expiry` is neither null nor"},
           Case{R"({"payload":null})", "`payload` or `payload_msgpack_hex`: give exactly one"},
           Case{R"({"id":null})", "`id` or `id_hex`: give exactly one"},
           Case{R"({"id_hex":"6b"})", "`id` or `id_hex`: give exactly one"},
           Case{R"({"id":null,"id_hex":"6"})", "field `id_hex` is not hex"},
           Case{R"({"id":null,"id_hex":"zz"})", "field `id_hex` is not hex"},
           Case{R"({"id":7})", "field `id` is not a string"},
           Case{R"({"payload":null,"payload_msgpack_hex":"c1"})", "is not one MessagePack value"},
           Case{R"({"deleted":true})", "field `payload` is not null on a deleted change"},
           Case{R"({"deleted":true,"payload":null,"payload_msgpack_hex":"c0","expiry":5})",
                "field `expiry` is set on a deleted change"},
       }) {
    json bad = good;
    bad.merge_patch(json::parse(c.edit));
    auto parsed = parse_change(bad, "change 0");
    ASSERT_FALSE(parsed.ok()) << c.edit;
    EXPECT_EQ(parsed.error().kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(parsed.error().message().find(c.message), std::string::npos)
        << c.edit << " -> " << parsed.error().message();
  }
  EXPECT_FALSE(parse_change(json::array(), "change 0").ok());
}

TEST(SyncWire, Utf8ValidationIsExactlyTheStandardOne) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain ascii"));
  EXPECT_TRUE(valid_utf8("\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"));
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(valid_utf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(valid_utf8("\xe2\x82"));          // cut short
  EXPECT_FALSE(valid_utf8("\x80"));              // a lone continuation byte
  EXPECT_FALSE(valid_utf8("\xff"));
  // The parser agrees: what valid_utf8 accepts parses back as the same string.
  for (std::string s : {std::string("\xf0\x9f\x98\x80"), std::string("\xed\x9f\xbf")}) {
    ASSERT_TRUE(valid_utf8(s));
    EXPECT_EQ(json::parse("\"" + s + "\"").get<std::string>(), s);
  }
}

}  // namespace
}  // namespace wasm_sandbox::store::wire
