// The MessagePack reader against nlohmann's encoder and decoder: round trips of every value
// type, and agreement on truncated and mutated (corrupt) input.
#include "store/msgpack_reader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "store/msgpack_writer.h"

namespace wasm_sandbox::store::msgpack {
namespace {

using json = nlohmann::json;

std::string_view bytes_of(const std::vector<uint8_t>& bytes) {
  return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// nlohmann's answer: the value, or discarded.
json reference(std::string_view bytes) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  return json::from_msgpack(data, data + bytes.size(), true, false);
}

// Byte-exact comparison (NaN-safe): both encode to the same MessagePack.
void expect_same(const json& a, const json& b, const std::string& what) {
  EXPECT_EQ(json::to_msgpack(a), json::to_msgpack(b)) << what;
}

json random_value(std::mt19937_64& rng, int depth) {
  switch (rng() % (depth > 4 ? 7 : 9)) {
    case 0:
      return nullptr;
    case 1:
      return rng() % 2 == 0;
    case 2:  // every integer width, both signs
      return static_cast<int64_t>(rng()) >> (rng() % 64);
    case 3:
      return static_cast<uint64_t>(rng()) >> (rng() % 64);
    case 4:
      return std::ldexp(static_cast<double>(rng() % 100000) - 50000, int(rng() % 40) - 20);
    case 5:
      return std::string(rng() % 3 == 0 ? rng() % 70000 : rng() % 40, char('a' + rng() % 26));
    case 6:
      return json::binary(std::vector<uint8_t>(rng() % 300, 7), rng() % 2 ? -1 : rng() % 100);
    case 7: {
      json array = json::array();
      for (size_t n = rng() % 20; n > 0; --n) array.push_back(random_value(rng, depth + 1));
      return array;
    }
    default: {
      json object = json::object();
      for (size_t n = rng() % 20; n > 0; --n) {
        object["k" + std::to_string(rng() % 1000)] = random_value(rng, depth + 1);
      }
      return object;
    }
  }
}

TEST(StoreMsgpackReader, RoundTripsEveryType) {
  json doc = {{"null", nullptr},
              {"t", true},
              {"f", false},
              {"fixint", 5},
              {"neg", -5},
              {"i8", -100},
              {"i16", -30000},
              {"i32", -2000000000},
              {"i64", std::numeric_limits<int64_t>::min()},
              {"u8", 200},
              {"u16", 60000},
              {"u32", 4000000000u},
              {"u64", std::numeric_limits<uint64_t>::max()},
              {"float", 1.5},
              {"nan", std::nan("")},
              {"inf", -INFINITY},
              {"str", "h\xc3\xa9llo"},
              {"str8", std::string(200, 's')},
              {"str16", std::string(70000, 's')},
              {"arr16", json::array()},
              {"map", {{"a", {1, 2, {{"b", nullptr}}}}}},
              {"bin", json::binary({1, 2, 3})},
              {"ext", json::binary({1, 2, 3, 4}, 42)}};
  for (int i = 0; i < 20; ++i) doc["arr16"].push_back(i);
  auto bytes = json::to_msgpack(doc);
  json decoded;
  ASSERT_TRUE(decode(bytes_of(bytes), &decoded));
  expect_same(decoded, doc, "document");
  expect_same(decoded, reference(bytes_of(bytes)), "nlohmann");
  EXPECT_TRUE(decoded["u64"].is_number_unsigned());
  EXPECT_TRUE(decoded["neg"].is_number_integer());
  EXPECT_EQ(decoded["ext"].get_binary().subtype(), 42);
}

TEST(StoreMsgpackReader, RandomDocumentsMatchNlohmann) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 300; ++i) {
    json doc = random_value(rng, 0);
    auto bytes = json::to_msgpack(doc);
    json decoded;
    ASSERT_TRUE(decode(bytes_of(bytes), &decoded)) << i;
    expect_same(decoded, doc, std::to_string(i));
  }
}

TEST(StoreMsgpackReader, CorruptInputAgreesWithNlohmann) {
  std::mt19937_64 rng(11);
  int rejected = 0;
  for (int i = 0; i < 1500; ++i) {
    std::vector<uint8_t> bytes = json::to_msgpack(random_value(rng, 0));
    std::string input(bytes_of(bytes));
    switch (i % 3) {
      case 0:  // truncated
        input.resize(rng() % (input.size() + 1));
        break;
      case 1:  // a byte changed
        input[rng() % input.size()] = static_cast<char>(rng());
        break;
      default:  // trailing garbage
        input += static_cast<char>(rng());
        break;
    }
    json decoded;
    bool ok = decode(input, &decoded);
    json expected = reference(input);
    ASSERT_EQ(ok, !expected.is_discarded()) << i;
    if (ok) expect_same(decoded, expected, std::to_string(i));
    rejected += !ok;
  }
  EXPECT_GT(rejected, 500);
}

TEST(StoreMsgpackReader, HostileLengthsAndNestingAreRefusedOrHandled) {
  json out;
  EXPECT_FALSE(decode(std::string_view("\xdd\xff\xff\xff\xff", 5), &out));  // array32 of 4G
  EXPECT_FALSE(decode(std::string_view("\xdf\xff\xff\xff\xff", 5), &out));  // map32 of 4G
  EXPECT_FALSE(decode(std::string_view("\xdb\xff\xff\xff\xff", 5), &out));  // str32 of 4G
  EXPECT_FALSE(decode(std::string_view("\x81\x01\x01", 3), &out));          // integer key
  EXPECT_FALSE(decode(std::string_view("\xc1", 1), &out));
  EXPECT_FALSE(decode("", &out));
  // Keys out of order and repeated (nlohmann never writes them; a hand-made value may): the
  // same result as nlohmann's reader, the last value winning.
  for (std::string_view input : {std::string_view("\x82\xa1"
                                                  "a\x01\xa1"
                                                  "a\x02",
                                                  7),
                                 std::string_view("\x83\xa1"
                                                  "b\x01\xa1"
                                                  "a\x02\xa1"
                                                  "b\x03",
                                                  10)}) {
    ASSERT_TRUE(decode(input, &out));
    expect_same(out, reference(input), "keys");
  }
  EXPECT_EQ(out, (json{{"a", 2}, {"b", 3}}));
  // Deeper than kMaxDepth: still decoded (by nlohmann's reader).
  std::string deep(kMaxDepth * 2, '\x91');
  deep += '\xc0';
  ASSERT_TRUE(decode(deep, &out));
  EXPECT_TRUE(out.is_array());
}

// The store's writer produces nlohmann's bytes exactly, for every value type and width.
TEST(MsgpackWriter, WritesTheBytesNlohmannWrites) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    json value = random_value(rng, 0);
    std::vector<uint8_t> ours;
    encode(value, &ours);
    ASSERT_EQ(ours, json::to_msgpack(value)) << value.dump().substr(0, 200);
  }
  for (json edge : {json(-33),
                    json(-128),
                    json(-129),
                    json(-32768),
                    json(-32769),
                    json(int64_t{-2147483648LL}),
                    json(int64_t{-2147483649LL}),
                    json(std::numeric_limits<int64_t>::min()),
                    json(127),
                    json(128),
                    json(255),
                    json(256),
                    json(65535),
                    json(65536),
                    json(4294967295ULL),
                    json(4294967296ULL),
                    json(std::numeric_limits<uint64_t>::max()),
                    json(0.5),
                    json(0.1),
                    json(std::nan("")),
                    json(1e300),
                    json(-1e300),
                    json(std::string(31, 'x')),
                    json(std::string(32, 'x')),
                    json(std::string(255, 'x')),
                    json(std::string(256, 'x')),
                    json(std::string(65536, 'x')),
                    json(json::array()),
                    json(json::object())}) {
    std::vector<uint8_t> ours;
    encode(edge, &ours);
    EXPECT_EQ(ours, json::to_msgpack(edge)) << edge.dump().substr(0, 40);
  }
  json big_array = json::array();
  for (int i = 0; i < 70000; ++i) big_array.push_back(i);
  std::vector<uint8_t> ours;
  encode(big_array, &ours);
  EXPECT_EQ(ours, json::to_msgpack(big_array));
}

}  // namespace
}  // namespace wasm_sandbox::store::msgpack
