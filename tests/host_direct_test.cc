// Host functions made with Func::wrap are called from guest code on their direct path (no
// Value conversions, host.h call_directly): every argument and result type, Caller&, and
// each way of failing, on both tiers.
#include <stdexcept>

#include "test_util.h"

namespace wasm_sandbox {
namespace {

using testing::load_wat;

constexpr std::string_view kGuest = R"((module
  (import "host" "mix" (func $mix (param i32 i64 f32 f64) (result f64)))
  (import "host" "unsigned" (func $unsigned (param i32 i64) (result i64)))
  (import "host" "split" (func $split (param i64) (result i32 i32)))
  (import "host" "peek" (func $peek (param i32) (result i32)))
  (import "host" "fail" (func $fail (param i32) (result i32)))
  (import "host" "throws" (func $throws))
  (import "host" "exits" (func $exits (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "\2a")
  (func (export "mix") (result f64)
    (call $mix (i32.const -2) (i64.const 1099511627776) (f32.const 0.5) (f64.const 0.25)))
  (func (export "unsigned") (result i64) (call $unsigned (i32.const -1) (i64.const -1)))
  (func (export "split") (param i64) (result i32)
    (local $lo i32) (local $hi i32)
    (call $split (local.get 0)) (local.set $hi) (local.set $lo)
    (i32.sub (local.get $hi) (local.get $lo)))
  (func (export "peek") (result i32) (call $peek (i32.const 16)))
  (func (export "fail") (param i32) (result i32) (call $fail (local.get 0)))
  (func (export "throws") (call $throws))
  (func (export "exits") (call $exits (i32.const 7))))
)";

Imports host_imports() {
  Imports imports;
  imports.add("host", "mix", Func::wrap([](int32_t a, int64_t b, float c, double d) {
                return a + static_cast<double>(b) + c + d;
              }));
  imports.add("host", "unsigned", Func::wrap([](uint32_t a, uint64_t b) -> uint64_t {
                return a == UINT32_MAX && b == UINT64_MAX ? 1 : 0;
              }));
  imports.add("host", "split", Func::wrap([](int64_t x) {
                return std::tuple{static_cast<int32_t>(x), static_cast<int32_t>(x >> 32)};
              }));
  imports.add("host", "peek", Func::wrap([](Caller& caller, int32_t address) -> Result<int32_t> {
                auto memory = caller.memory();
                if (!memory) return std::move(memory).error();
                auto view = memory->view(static_cast<uint32_t>(address), 1);
                if (!view) return std::move(view).error();
                return (*view)[0];
              }));
  imports.add("host", "fail", Func::wrap([](int32_t x) -> Result<int32_t> {
                if (x < 0)
                  return Error(ErrorKind::InvalidArgument, "negative input " + std::to_string(x));
                if (x == 0) return Error(ErrorKind::Trap, "stopped", TrapKind::Timeout);
                return x + 1;
              }));
  imports.add("host", "throws", Func::wrap([]() { throw std::runtime_error("boom"); }));
  imports.add("host", "exits",
              Func::wrap([](int32_t code) -> Status { return Error::exit(code); }));
  return imports;
}

class HostDirectTest : public ::testing::TestWithParam<Tier> {
 protected:
  static EngineConfig config() { return testing::tier_config(GetParam()); }
  HostDirectTest()
      : engine_(config()),
        module_(load_wat(engine_, kGuest)),
        instance_(std::move(module_.instantiate(host_imports())).value()) {}
  Engine engine_;
  Module module_;
  Instance instance_;
};

TEST_P(HostDirectTest, EveryValueTypeCrosses) {
  EXPECT_DOUBLE_EQ(*instance_.call<double>("mix"), -2 + 1099511627776.0 + 0.75);
  EXPECT_EQ(*instance_.call<int64_t>("unsigned"), 1);
  EXPECT_EQ(*instance_.call<int32_t>("split", (int64_t{9} << 32) | 4), 5);
  EXPECT_EQ(*instance_.call<int32_t>("peek"), 42);
}

TEST_P(HostDirectTest, ErrorsBecomeTrapsNamingTheFunction) {
  EXPECT_EQ(*instance_.call<int32_t>("fail", 1), 2);
  auto failed = instance_.call<int32_t>("fail", -4);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().trap(), TrapKind::HostError);
  EXPECT_EQ(
      failed.error().message(),
      "test.wat: `fail` trapped: host function failed: host function host.fail: negative input -4");
  auto passed_on = instance_.call<int32_t>("fail", 0);
  ASSERT_FALSE(passed_on.ok());
  EXPECT_EQ(passed_on.error().trap(), TrapKind::Timeout);
  auto thrown = instance_.call("throws", {});
  ASSERT_FALSE(thrown.ok());
  EXPECT_EQ(thrown.error().trap(), TrapKind::HostError);
  EXPECT_NE(thrown.error().message().find("host function host.throws: threw an exception: boom"),
            std::string::npos)
      << thrown.error().message();
  auto exited = instance_.call("exits", {});
  ASSERT_FALSE(exited.ok());
  EXPECT_EQ(exited.error().trap(), TrapKind::Exit);
  EXPECT_EQ(exited.error().exit_code(), 7);
  // The instance stays usable after each.
  EXPECT_EQ(*instance_.call<int32_t>("fail", 41), 42);
}

INSTANTIATE_TEST_SUITE_P(Tiers, HostDirectTest, testing::both_tiers(), testing::tier_name);

}  // namespace
}  // namespace wasm_sandbox
