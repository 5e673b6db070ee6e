// GuestData: strings and bytes in and out of a guest through its ws_alloc/ws_free, on both
// tiers. text.wasm (guests/text.c, on the guest SDK) for the convention kept; a WAT guest whose
// allocator and results can be made hostile for the convention broken.
#include <string>
#include <vector>

#include "test_util.h"

namespace wasm_sandbox {
namespace {

using testing::load_wat;

std::span<const uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

class GuestDataTest : public ::testing::TestWithParam<Tier> {
 protected:
  GuestDataTest() : engine_(testing::tier_config(GetParam())) {}

  // text.wasm, named so in messages.
  Result<Module> load_text() const {
    return engine_.load(bytes_of(testing::read_file(testing::guest("text.wasm"))), "text.wasm");
  }

  // text.wasm's instance and its GuestData.
  void SetUp() override {
    auto module = load_text();
    ASSERT_TRUE(module.ok()) << module.error().message();
    auto instance = module->instantiate();
    ASSERT_TRUE(instance.ok()) << instance.error().message();
    auto data = GuestData::of(*instance);
    ASSERT_TRUE(data.ok()) << data.error().message();
    data_ = std::move(*data);
  }

  Engine engine_;
  GuestData data_;
};

TEST_P(GuestDataTest, StringsRoundTrip) {
  auto upper = data_.call_string("upper", "Hello, wasm!");
  ASSERT_TRUE(upper.ok()) << upper.error().message();
  EXPECT_EQ(*upper, "HELLO, WASM!");
  EXPECT_EQ(*data_.call_string("upper", ""), "");
  EXPECT_EQ(*data_.call_string("upper", "q"), "Q");
  EXPECT_EQ(*data_.call_string("reverse", "abc"), "cba");
  // Bytes other than ASCII letters, zeros and UTF-8 among them, pass through untouched.
  const std::string binary("caf\xc3\xa9\0z\xff\0", 9);
  EXPECT_EQ(*data_.call_string("upper", binary), std::string("CAF\xc3\xa9\0Z\xff\0", 9));
}

TEST_P(GuestDataTest, BytesRoundTrip) {
  std::vector<uint8_t> all(256);
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint8_t>(i);
  auto reversed = data_.call_bytes("reverse", all);
  ASSERT_TRUE(reversed.ok()) << reversed.error().message();
  ASSERT_EQ(reversed->size(), 256u);
  for (size_t i = 0; i < 256; ++i) EXPECT_EQ((*reversed)[i], 255 - i);
  EXPECT_TRUE(data_.call_bytes("reverse", {})->empty());
  EXPECT_EQ(*data_.call_bytes("reverse", std::vector<uint8_t>{0}), std::vector<uint8_t>{0});
}

TEST_P(GuestDataTest, OneMebibyteRoundTripsAndGrowsTheMemory) {
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  const uint64_t before = data_.memory().size();
  auto upper = data_.call_string("upper", big);
  ASSERT_TRUE(upper.ok()) << upper.error().message();
  ASSERT_EQ(upper->size(), big.size());
  for (size_t i = 0; i < big.size(); i += 4099) EXPECT_EQ((*upper)[i], 'A' + i % 26) << i;
  EXPECT_GE(data_.memory().size(), before + 2 * big.size());  // input and output at once
}

// The SDK's allocator gives everything back once the host has freed input and output: calls
// in a loop do not grow the memory.
TEST_P(GuestDataTest, RepeatedCallsDoNotGrowTheMemory) {
  ASSERT_TRUE(data_.call_string("upper", std::string(10000, 'x')).ok());
  const uint64_t size = data_.memory().size();
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(data_.call_string("reverse", "0123456789")->size(), 10u);
  for (int i = 0; i < 200; ++i)
    ASSERT_TRUE(data_.call_string("upper", std::string(9000, 'y')).ok());
  EXPECT_EQ(data_.memory().size(), size);
}

TEST_P(GuestDataTest, CopyInAndViewBytesWithZeros) {
  const std::string binary("\0a\0\xff\x80", 5);
  auto in = data_.copy_in(bytes_of(binary));
  ASSERT_TRUE(in.ok()) << in.error().message();
  EXPECT_NE(in->ptr, 0u);
  EXPECT_EQ(in->len, 5u);
  auto view = data_.view(*in);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(std::string(view->begin(), view->end()), binary);
  EXPECT_EQ(*data_.string_view(*in), binary);
  EXPECT_TRUE(data_.free(*in).ok());
  EXPECT_EQ(*data_.copy_in(""), GuestSlice{});  // nothing to allocate
  EXPECT_TRUE(data_.free({}).ok());
}

TEST_P(GuestDataTest, TakeAResultTheGuestMade) {
  auto module = load_text();
  ASSERT_TRUE(module.ok());
  auto instance = module->instantiate();
  ASSERT_TRUE(instance.ok());
  auto data = GuestData::of(*instance);
  ASSERT_TRUE(data.ok());
  auto greeting = instance->typed<uint64_t()>("greeting");
  ASSERT_TRUE(greeting.ok());
  EXPECT_EQ(*data->take_string(*greeting->call(), "greeting"), "hello from text.wasm");
  auto bytes = data->take_bytes(*greeting->call());
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(std::string(bytes->begin(), bytes->end()), "hello from text.wasm");

  // Input as a view the guest reads, result read as a view before it is freed.
  auto count_words = instance->typed<int32_t(uint32_t, uint32_t)>("count_words");
  ASSERT_TRUE(count_words.ok());
  auto in = data->copy_in(" two words\n and three ");
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(*count_words->call(in->ptr, in->len), 4);
  EXPECT_EQ(*count_words->call(0, 0), 0);
  ASSERT_TRUE(data->free(*in).ok());

  auto upper = instance->typed<uint64_t(uint32_t, uint32_t)>("upper");
  in = data->copy_in(bytes_of("view me"));
  ASSERT_TRUE(in.ok());
  const GuestSlice out = GuestSlice::unpack(*upper->call(in->ptr, in->len));
  EXPECT_EQ(*data->string_view(out), "VIEW ME");
  EXPECT_TRUE(data->free(out).ok());
  EXPECT_TRUE(data->free(*in).ok());
}

// What guest_data.h promises of views: they are checked, they stay at their address across
// growth, and their bytes are the guest's to change at its next call.
TEST_P(GuestDataTest, ViewsLiveAsDocumented) {
  auto hello = data_.copy_in("hello");
  ASSERT_TRUE(hello.ok());
  auto view = data_.string_view(*hello);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(*view, "hello");
  EXPECT_EQ(reinterpret_cast<const uint8_t*>(view->data()), data_.memory().data() + hello->ptr);

  // Growth maps pages in place: the view still points at the same bytes.
  Memory memory = data_.memory();
  const uint32_t pages = memory.pages();
  ASSERT_TRUE(memory.grow(4).ok());
  EXPECT_EQ(memory.pages(), pages + 4);
  EXPECT_EQ(*view, "hello");

  // Freed, the bytes are the guest's: its allocator (the SDK's bump allocator, empty again)
  // hands the same place out for the next input, and the old view shows the new bytes.
  ASSERT_TRUE(data_.free(*hello).ok());
  auto world = data_.copy_in("world");
  ASSERT_TRUE(world.ok());
  EXPECT_EQ(world->ptr, hello->ptr);
  EXPECT_EQ(*view, "world");
  ASSERT_TRUE(data_.free(*world).ok());

  // Bounds are checked when a view is made, in 64 bits.
  const uint32_t size = static_cast<uint32_t>(data_.memory().size());
  EXPECT_TRUE(data_.view({size - 4, 4}).ok());
  EXPECT_TRUE(data_.view({size, 0}).ok());
  auto past = data_.view({size - 4, 5});
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_EQ(
      past.error().message(), "text.wasm: (ptr " +
                                  [&] {
                                    char buf[16];
                                    std::snprintf(buf, sizeof buf, "0x%x", size - 4);
                                    return std::string(buf);
                                  }() +
                                  ", len 5) is outside its memory of " + std::to_string(size) +
                                  " bytes");
  EXPECT_FALSE(data_.view({0xffffffff, 0xffffffff}).ok());
}

TEST_P(GuestDataTest, AllocAlignsAndReportsExhaustion) {
  auto a = data_.alloc(3, 1);
  auto b = data_.alloc(8, 64);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(b->ptr % 64, 0u);
  EXPECT_GE(b->ptr, a->ptr + 3);
  EXPECT_EQ(*data_.alloc(0), GuestSlice{});
  // Past the engine's memory limit (256 MiB by default) the guest cannot grow: ws_alloc
  // returns 0.
  auto huge = data_.alloc(512u << 20);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().kind(), ErrorKind::LimitExceeded);
  EXPECT_EQ(huge.error().message(),
            "text.wasm: ws_alloc(536870912, 1) returned 0: the guest is out of memory");
  EXPECT_TRUE(data_.free(*b, 64).ok());
  EXPECT_TRUE(data_.free(*a).ok());
}

TEST_P(GuestDataTest, FunctionsOfTheWrongTypeOrMissing) {
  auto wrong = data_.call_string("count_words", "a b");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_EQ(wrong.error().message(),
            "text.wasm: `count_words` has type (i32, i32) -> (i32), not (i32, i32) -> (i64)");
  auto missing = data_.call_string("lower", "A");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::NotFound);
  EXPECT_EQ(missing.error().message(), "text.wasm: no export named `lower`");
  EXPECT_EQ(*data_.call_string("upper", "still fine"), "STILL FINE");
}

TEST(GuestDataNullTest, ANullHandleFailsEveryCall) {
  GuestData null;
  EXPECT_TRUE(null.is_null());
  EXPECT_EQ(null.copy_in("x").error().kind(), ErrorKind::InvalidArgument);
  EXPECT_EQ(null.view({}).error().message(), "use of a null GuestData");
  EXPECT_FALSE(null.free({}).ok());
  EXPECT_FALSE(null.take_string(0).ok());
  EXPECT_FALSE(null.call_string("upper", "x").ok());
}

// --- Guests that break the convention.

// ws_alloc and ws_free do as global `mode` says; `frees` counts ws_free calls. The other
// functions return fixed, bad results.
constexpr std::string_view kHostile = R"((module
  (memory (export "memory") 1)
  (global $mode (export "mode") (mut i32) (i32.const 0))
  (global $frees (export "frees") (mut i32) (i32.const 0))
  (global $next (mut i32) (i32.const 1024))
  (func (export "ws_alloc") (param $size i32) (param $align i32) (result i32) (local $p i32)
    (if (i32.eq (global.get $mode) (i32.const 1)) (then (return (i32.const 0))))
    (if (i32.eq (global.get $mode) (i32.const 2)) (then (return (i32.const 0xfffe))))
    (if (i32.eq (global.get $mode) (i32.const 3)) (then (return (i32.const 0xfffffff0))))
    (if (i32.eq (global.get $mode) (i32.const 4)) (then (unreachable)))
    (local.set $p (global.get $next))
    (global.set $next (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ws_free") (param i32 i32 i32)
    (if (i32.eq (global.get $mode) (i32.const 5)) (then (unreachable)))
    (global.set $frees (i32.add (global.get $frees) (i32.const 1))))
  (func (export "len_past_end") (param i32 i32) (result i64) (i64.const 0x0000ff0000000200))
  (func (export "wraps_around") (param i32 i32) (result i64) (i64.const -1))
  (func (export "null_with_len") (param i32 i32) (result i64) (i64.const 5))
  (func (export "traps") (param i32 i32) (result i64) (unreachable))
  (func (export "echo") (param i32 i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get 0)) (i64.const 32))
            (i64.extend_i32_u (local.get 1)))))
)";

class HostileGuestTest : public ::testing::TestWithParam<Tier> {
 protected:
  HostileGuestTest()
      : engine_(testing::tier_config(GetParam())),
        instance_(std::move(load_wat(engine_, kHostile).instantiate()).value()),
        data_(std::move(GuestData::of(instance_)).value()) {}

  void set_mode(int32_t mode) { ASSERT_TRUE(instance_.global("mode")->set(Value::i32(mode)).ok()); }
  int32_t frees() const { return instance_.global("frees")->get().i32(); }

  Engine engine_;
  Instance instance_;
  GuestData data_;
};

TEST_P(HostileGuestTest, AllocReturningZero) {
  set_mode(1);
  auto in = data_.copy_in("abc");
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(in.error().kind(), ErrorKind::LimitExceeded);
  EXPECT_EQ(in.error().message(),
            "test.wat: ws_alloc(3, 1) returned 0: the guest is out of memory");
  auto call = data_.call_string("echo", "abc");
  ASSERT_FALSE(call.ok());
  EXPECT_EQ(call.error().kind(), ErrorKind::LimitExceeded);
}

TEST_P(HostileGuestTest, AllocReturningARangePastTheEnd) {
  set_mode(2);
  auto in = data_.copy_in("abcd");
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(in.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_EQ(in.error().message(),
            "test.wat: ws_alloc(4, 1) returned 0xfffe, and [0xfffe, 0x10002) is outside its "
            "memory of 65536 bytes");
  EXPECT_TRUE(data_.copy_in("ab").ok());  // exactly fits the end
}

TEST_P(HostileGuestTest, AllocWhosePointerPlusLengthOverflows32Bits) {
  set_mode(3);
  auto in = data_.copy_in(std::string(32, 'x'));
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(in.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_EQ(in.error().message(),
            "test.wat: ws_alloc(32, 1) returned 0xfffffff0, and [0xfffffff0, 0x100000010) is "
            "outside its memory of 65536 bytes");
}

TEST_P(HostileGuestTest, AllocThatTraps) {
  set_mode(4);
  auto call = data_.call_string("echo", "abc");
  ASSERT_FALSE(call.ok());
  EXPECT_EQ(call.error().kind(), ErrorKind::Trap);
  EXPECT_EQ(call.error().trap(), TrapKind::Unreachable);
  EXPECT_EQ(call.error().message(), "test.wat: `ws_alloc` trapped: unreachable executed");
  set_mode(0);
  EXPECT_EQ(*data_.call_string("echo", "usable"), "usable");  // the instance stays usable
}

TEST_P(HostileGuestTest, FreeThatTraps) {
  auto in = data_.copy_in("abc");
  ASSERT_TRUE(in.ok());
  set_mode(5);
  auto freed = data_.free(*in);
  ASSERT_FALSE(freed.ok());
  EXPECT_EQ(freed.error().trap(), TrapKind::Unreachable);
  EXPECT_EQ(freed.error().message(), "test.wat: `ws_free` trapped: unreachable executed");
}

TEST_P(HostileGuestTest, ResultsOutsideTheMemoryAreErrorsAndNotFreed) {
  auto past = data_.call_string("len_past_end", "in");
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_EQ(past.error().message(),
            "test.wat: `len_past_end` returned (ptr 0xff00, len 512) outside its memory of "
            "65536 bytes");
  EXPECT_EQ(frees(), 1);  // the input, not the result

  auto wraps = data_.call_bytes("wraps_around", bytes_of("in"));
  ASSERT_FALSE(wraps.ok());
  EXPECT_EQ(wraps.error().message(),
            "test.wat: `wraps_around` returned (ptr 0xffffffff, len 4294967295) outside its "
            "memory of 65536 bytes");

  auto null = data_.call_string("null_with_len", "");
  ASSERT_FALSE(null.ok());
  EXPECT_EQ(null.error().message(),
            "test.wat: `null_with_len` returned (ptr 0x0, len 5): a length with a null pointer");

  EXPECT_EQ(data_.take_string(uint64_t{0x10000} << 32 | 1).error().message(),
            "test.wat: a function returned (ptr 0x10000, len 1) outside its memory of 65536 "
            "bytes");
  EXPECT_EQ(frees(), 2);  // the input of wraps_around; null_with_len's was empty
}

TEST_P(HostileGuestTest, AFunctionThatTrapsStillHasItsInputFreed) {
  auto call = data_.call_string("traps", "input");
  ASSERT_FALSE(call.ok());
  EXPECT_EQ(call.error().trap(), TrapKind::Unreachable);
  EXPECT_EQ(call.error().message(), "test.wat: `traps` trapped: unreachable executed");
  EXPECT_EQ(frees(), 1);
}

TEST_P(HostileGuestTest, AResultAtTheVeryEndIsFine) {
  EXPECT_EQ(*data_.take_string(uint64_t{0xffff} << 32 | 1), std::string(1, '\0'));
  EXPECT_EQ(*data_.take_string(uint64_t{0x10000} << 32), "");  // empty, at the end
  EXPECT_EQ(frees(), 2);
}

INSTANTIATE_TEST_SUITE_P(Tiers, GuestDataTest, testing::both_tiers(), testing::tier_name);
INSTANTIATE_TEST_SUITE_P(Tiers, HostileGuestTest, testing::both_tiers(), testing::tier_name);

// --- Guests without the convention.

std::string missing_message(std::string_view wat) {
  Engine engine(testing::tier_config(Tier::Baseline));
  auto instance = load_wat(engine, wat).instantiate();
  EXPECT_TRUE(instance.ok());
  auto data = GuestData::of(*instance);
  EXPECT_FALSE(data.ok());
  return data.ok() ? "" : data.error().message();
}

TEST(GuestDataExportsTest, MissingOrWrongExportsAreNamed) {
  constexpr std::string_view kAlloc =
      R"((func (export "ws_alloc") (param i32 i32) (result i32) (i32.const 8)))";
  constexpr std::string_view kFree = R"((func (export "ws_free") (param i32 i32 i32)))";
  const std::string suffix =
      "; the data convention (guest_data.h) needs exports `memory`, `ws_alloc` and `ws_free`";
  EXPECT_EQ(missing_message("(module " + std::string(kAlloc) + std::string(kFree) + ")"),
            "test.wat: no export named `memory`" + suffix);
  EXPECT_EQ(missing_message(R"((module (memory (export "memory") 1))" + std::string(kFree) + ")"),
            "test.wat: no export named `ws_alloc`" + suffix);
  EXPECT_EQ(missing_message(R"((module (memory (export "memory") 1))" + std::string(kAlloc) + ")"),
            "test.wat: no export named `ws_free`" + suffix);
  EXPECT_EQ(missing_message(R"((module (memory (export "memory") 1)
                 (func (export "ws_alloc") (param i32) (result i32) (i32.const 8)))" +
                            std::string(kFree) + ")"),
            "test.wat: `ws_alloc` has type (i32) -> (i32), not (i32, i32) -> (i32)" + suffix);
  EXPECT_EQ(missing_message(R"((module (global (export "memory") i32 (i32.const 0)))" +
                            std::string(kAlloc) + std::string(kFree) + ")"),
            "test.wat: export `memory` is not a memory" + suffix);
}

}  // namespace
}  // namespace wasm_sandbox
