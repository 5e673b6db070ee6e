// MessagePack straight to JSON text (src/store/msgpack_text.h) against the DOM path it replaces:
// the store's decoder followed by nlohmann's dump(-1, ' ', false, replace), byte for byte, on
// random documents, on what the one-pass renderer hands back to that path (unsorted and repeated
// keys, invalid UTF-8, deep nesting), and on truncated and mutated (corrupt) input; and
// json_text_size() against the text's size on all of them.
#include "store/msgpack_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "store/msgpack_reader.h"

namespace wasm_sandbox::store::msgpack {
namespace {

using json = nlohmann::json;

std::string bytes_of(const std::vector<uint8_t>& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// The DOM path's answer: the text, or nullopt where decode() refuses the bytes.
std::optional<std::string> reference(std::string_view bytes) {
  json value;
  if (!decode(bytes, &value)) return std::nullopt;
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// append_json_text()'s answer; every call also holds json_text_size() to it: refused where it
// is refused (leaving the size untouched), else exactly the text's size.
std::optional<std::string> render(std::string_view bytes) {
  std::string text;
  const bool rendered = append_json_text(bytes, &text);
  size_t size = 12345;
  EXPECT_EQ(json_text_size(bytes, &size), rendered);
  if (!rendered) {
    EXPECT_EQ(size, 12345u);
    return std::nullopt;
  }
  EXPECT_EQ(size, text.size());
  return text;
}

std::string random_string(std::mt19937_64& rng) {
  static const char* const kPieces[] = {"a",
                                        "plain",
                                        " ",
                                        "\"",
                                        "\\",
                                        "/",
                                        "\n",
                                        "\t",
                                        "\b",
                                        "\f",
                                        "\r",
                                        "\x01",
                                        "\x1f",
                                        "\x7f",
                                        "\xc3\xa9",
                                        "\xe2\x82\xac",
                                        "\xf0\x9f\x98\x80",
                                        "\xed\x9f\xbf",
                                        "\xef\xbf\xbd",
                                        "\u00e9t\u00e9"};
  std::string s;
  for (size_t n = rng() % 8; n > 0; --n) s += kPieces[rng() % std::size(kPieces)];
  if (rng() % 10 == 0) s += static_cast<char>(rng());  // now and then a stray byte
  return s;
}

double random_double(std::mt19937_64& rng) {
  switch (rng() % 8) {
    case 0:
      return std::numeric_limits<double>::quiet_NaN();
    case 1:
      return rng() % 2 ? INFINITY : -INFINITY;
    case 2:
      return rng() % 2 ? 0.0 : -0.0;
    case 3:
      return std::numeric_limits<double>::denorm_min() * static_cast<double>(rng() % 1000);
    case 4: {
      uint64_t bits = rng();
      double d;
      std::memcpy(&d, &bits, 8);
      return std::isfinite(d) ? d : 1.5;
    }
    default:
      return std::ldexp(static_cast<double>(rng() % 2000001) - 1000000, int(rng() % 120) - 60);
  }
}

json random_value(std::mt19937_64& rng, int depth) {
  switch (rng() % (depth > 4 ? 8 : 10)) {
    case 0:
      return nullptr;
    case 1:
      return rng() % 2 == 0;
    case 2:  // every integer width, both signs, the extremes
      return rng() % 8 == 0 ? std::numeric_limits<int64_t>::min()
                            : static_cast<int64_t>(rng()) >> (rng() % 64);
    case 3:
      return rng() % 8 == 0 ? std::numeric_limits<uint64_t>::max() : rng() >> (rng() % 64);
    case 4:
      return random_double(rng);
    case 5:
      return static_cast<float>(random_double(rng));  // still written as a double by nlohmann
    case 6:
      return random_string(rng);
    case 7:
      return json::binary(std::vector<uint8_t>(rng() % 20, static_cast<uint8_t>(rng())),
                          rng() % 2 ? -1 : static_cast<int>(rng() % 256));
    case 8: {
      json array = json::array();
      for (size_t n = rng() % 12; n > 0; --n) array.push_back(random_value(rng, depth + 1));
      return array;
    }
    default: {
      json object = json::object();
      for (size_t n = rng() % 12; n > 0; --n) {
        object[rng() % 4 == 0 ? random_string(rng) : "k" + std::to_string(rng() % 100)] =
            random_value(rng, depth + 1);
      }
      return object;
    }
  }
}

TEST(StoreMsgpackText, RandomDocumentsRenderAsTheDomPathDoes) {
  std::mt19937_64 rng(17);
  for (int i = 0; i < 2000; ++i) {
    const std::string bytes = bytes_of(json::to_msgpack(random_value(rng, 0)));
    auto expected = reference(bytes);
    ASSERT_TRUE(expected) << i;
    EXPECT_EQ(render(bytes), expected) << i;
  }
}

TEST(StoreMsgpackText, EscapesFloatsAndIntegersAsDump) {
  json doc = {{"quote\"back\\slash", "tab\there\nnew\x01\x1f\x7f/"},
              {"unicode", "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"},
              {"floats", {98.25, 0.1, -0.0, 1e300, 5e-324, 1.0, 100.0, NAN, -INFINITY}},
              {"ints",
               {0, -1, -32, -33, 127, 128, std::numeric_limits<int64_t>::min(),
                std::numeric_limits<uint64_t>::max()}},
              {"nested", {{"a", {1, {2, {3, json::object()}}, json::array()}}}},
              {"bin", json::binary({1, 2, 255})},
              {"ext", json::binary({9}, 200)}};
  const std::string bytes = bytes_of(json::to_msgpack(doc));
  EXPECT_EQ(render(bytes), doc.dump());
  EXPECT_EQ(render(bytes), reference(bytes));
}

TEST(StoreMsgpackText, AppendsAfterWhatIsThereAndLeavesItOnError) {
  std::string text = "prefix:";
  ASSERT_TRUE(append_json_text(bytes_of(json::to_msgpack(json{{"a", 1}})), &text));
  EXPECT_EQ(text, R"(prefix:{"a":1})");
  EXPECT_FALSE(append_json_text(std::string_view("\x82\xa1"
                                                 "a",
                                                 3),
                                &text));  // truncated
  EXPECT_EQ(text, R"(prefix:{"a":1})");
  EXPECT_FALSE(append_json_text("", &text));
  EXPECT_EQ(text, R"(prefix:{"a":1})");
}

// What the one pass cannot render in stored order goes through the DOM path, with its result.
TEST(StoreMsgpackText, UnsortedAndRepeatedKeysInvalidUtf8AndDeepNestingMatchDump) {
  const std::vector<std::string> cases = {
      std::string("\x82\xa1"
                  "b\x01\xa1"
                  "a\x02",
                  7),  // {"b":1,"a":2}: sorted by nlohmann
      std::string("\x82\xa1"
                  "a\x01\xa1"
                  "a\x02",
                  7),  // {"a":1,"a":2}: the last wins
      std::string("\xa3"
                  "a\xff"
                  "b",
                  4),                          // invalid UTF-8: U+FFFD
      std::string("\x81\xa2\xc3\x28\x01", 5),  // an invalid UTF-8 key
      std::string("\xa3\xed\xa0\x80", 4),      // an encoded surrogate
      std::string("\xa4\xf4\x90\x80\x80", 5),  // above U+10FFFF
      std::string("\xa2\xc0\xaf", 3),          // overlong
  };
  for (const std::string& bytes : cases) {
    auto expected = reference(bytes);
    ASSERT_TRUE(expected) << ::testing::PrintToString(bytes);
    EXPECT_EQ(render(bytes), expected) << *expected;
  }
  for (int depth : {kMaxDepth - 1, kMaxDepth, kMaxDepth + 1, kMaxDepth + 50}) {
    json deep = 1;
    for (int i = 0; i < depth; ++i) deep = i % 2 ? json::array({deep}) : json{{"k", deep}};
    const std::string bytes = bytes_of(json::to_msgpack(deep));
    EXPECT_EQ(render(bytes), deep.dump()) << depth;
  }
}

TEST(StoreMsgpackText, CorruptInputIsRefusedExactlyWhereDecodeRefusesIt) {
  std::mt19937_64 rng(23);
  int refused = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string input = bytes_of(json::to_msgpack(random_value(rng, 0)));
    switch (i % 3) {
      case 0:
        input.resize(rng() % (input.size() + 1));
        break;
      case 1:
        input[rng() % input.size()] = static_cast<char>(rng());
        break;
      default:
        input += static_cast<char>(rng());
        break;
    }
    auto expected = reference(input);
    ASSERT_EQ(render(input), expected) << i;
    refused += !expected;
  }
  EXPECT_GT(refused, 1000);
  // Hostile lengths are refused before anything is reserved for them.
  for (std::string_view bytes :
       {std::string_view("\xdd\xff\xff\xff\xff", 5), std::string_view("\xdf\xff\xff\xff\xff", 5),
        std::string_view("\xdb\xff\xff\xff\xff", 5), std::string_view("\xc6\xff\xff\xff\xff", 5),
        std::string_view("\x81\x01\x01", 3), std::string_view("\xc1", 1)}) {
    EXPECT_FALSE(render(bytes));
  }
}

}  // namespace
}  // namespace wasm_sandbox::store::msgpack
