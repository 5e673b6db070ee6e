// Caller::memory(): the handle a host function gets of its caller's memory. It is taken from
// the instance's exported memories, placed once at instantiation, so these pin down what that
// must keep: growth is seen, bounds checks are as strict as ever, names that are not exported
// memories are NotFound, each instance gets its own memory (and a re-exported import the
// imported one), and the handle, which does not own its instance, cannot be imported.
#include <optional>

#include "test_util.h"

namespace wasm_sandbox {
namespace {

using testing::load_wat;

constexpr std::string_view kGrows = R"((module
  (import "host" "probe" (func $probe (result i32)))
  (memory (export "memory") 1 8)
  (func (export "grow_then_probe") (param $pages i32) (result i32)
    (drop (memory.grow (local.get $pages)))
    (call $probe))
  (func (export "grow") (param $pages i32) (result i32) (memory.grow (local.get $pages)))
  (func (export "size") (result i32) (memory.size))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))
)";

constexpr uint64_t kPage = 65536;

TEST(CallerMemoryTest, SeesGrowthByTheGuestWithBoundsAsStrict) {
  Engine engine;
  struct Seen {
    uint32_t pages = 0;
    uint64_t size = 0;
    bool last_byte = false;
    std::optional<Error> past_end;
  } seen;
  Imports imports;
  imports.add("host", "probe", Func::wrap([&seen](Caller& caller) -> Result<int32_t> {
                auto memory = caller.memory();
                if (!memory) return std::move(memory).error();
                auto named = caller.memory("memory");  // the same memory, found by its name
                if (!named || named->data() != memory->data()) {
                  return Error(ErrorKind::Internal, "memory(\"memory\") is another memory");
                }
                seen.pages = memory->pages();
                seen.size = memory->size();
                auto last = memory->view(memory->size() - 1, 1);
                if (last.ok()) (*last)[0] = 0x5a;  // in the page the guest just added
                seen.last_byte = last.ok();
                auto past = memory->view(memory->size() - 1, 2);
                if (!past.ok()) seen.past_end = past.error();
                return 0;
              }));
  auto instance = load_wat(engine, kGrows).instantiate(imports);
  ASSERT_TRUE(instance.ok()) << instance.error().message();

  ASSERT_EQ(*instance->call<int32_t>("grow_then_probe", 2), 0);
  EXPECT_EQ(seen.pages, 3u);
  EXPECT_EQ(seen.size, 3 * kPage);
  EXPECT_TRUE(seen.last_byte);
  EXPECT_EQ(*instance->call<int32_t>("load", static_cast<int32_t>(3 * kPage - 1)), 0x5a);
  ASSERT_TRUE(seen.past_end.has_value());
  EXPECT_EQ(seen.past_end->kind(), ErrorKind::InvalidArgument);
  EXPECT_EQ(seen.past_end->message(),
            "range [196607, 196609) is outside the memory of 196608 bytes");

  // Once more: the second call's handle sees the second growth, not a size kept from the first.
  ASSERT_EQ(*instance->call<int32_t>("grow_then_probe", 1), 0);
  EXPECT_EQ(seen.pages, 4u);
  EXPECT_EQ(seen.size, 4 * kPage);
}

TEST(CallerMemoryTest, AHandleHeldDuringTheCallSeesGrowthMadeMeanwhile) {
  Engine engine;
  std::optional<Instance> self;
  uint32_t before = 0, after_guest = 0, after_host = 0;
  Imports imports;
  imports.add("host", "probe", Func::wrap([&](Caller& caller) -> Result<int32_t> {
                auto memory = caller.memory();
                if (!memory) return std::move(memory).error();
                before = memory->pages();
                auto grown = self->call<int32_t>("grow", 1);  // the guest grows, reentered
                if (!grown) return std::move(grown).error();
                after_guest = memory->pages();
                auto old = memory->grow(2);  // the host grows through the handle
                if (!old) return std::move(old).error();
                after_host = memory->pages();
                return 0;
              }));
  auto instance = load_wat(engine, kGrows).instantiate(imports);
  ASSERT_TRUE(instance.ok()) << instance.error().message();
  self = *instance;
  ASSERT_EQ(*instance->call<int32_t>("grow_then_probe", 0), 0);
  EXPECT_EQ(before, 1u);
  EXPECT_EQ(after_guest, 2u);
  EXPECT_EQ(after_host, 4u);
  EXPECT_EQ(*instance->call<int32_t>("size"), 4);
  self.reset();
}

TEST(CallerMemoryTest, ANameThatIsNoExportedMemoryIsNotFound) {
  Engine engine;
  std::vector<Result<Memory>> found;
  Imports imports;
  imports.add("host", "probe", Func::wrap([&found](Caller& caller) {
                found.push_back(caller.memory());
                for (const char* name : {"memory", "heap", "nothing", ""}) {
                  found.push_back(caller.memory(name));  // in the order of `names` below
                }
                found.push_back(caller.memory("mem"));
                return int32_t{0};
              }));
  // A memory exported as "mem", and a function named "memory" and a global "heap".
  auto instance = load_wat(engine, R"((module
    (import "host" "probe" (func $probe (result i32)))
    (memory (export "mem") 1)
    (global (export "heap") i32 (i32.const 0))
    (func (export "memory") (result i32) (call $probe))))")
                      .instantiate(imports);
  ASSERT_TRUE(instance.ok()) << instance.error().message();
  ASSERT_TRUE(instance->call<int32_t>("memory").ok());
  ASSERT_EQ(found.size(), 6u);
  const char* names[] = {"memory", "memory", "heap", "nothing", ""};  // memory(), memory(name)
  for (size_t i = 0; i < 5; ++i) {
    ASSERT_FALSE(found[i].ok()) << names[i];
    EXPECT_EQ(found[i].error().kind(), ErrorKind::NotFound);
    EXPECT_EQ(found[i].error().message(),
              std::string("test.wat exports no memory `") + names[i] + "`");
  }
  ASSERT_TRUE(found[5].ok());
  EXPECT_EQ(found[5]->data(), (*instance->memory("mem")).data());
}

// The second name is kept apart from the first (InstanceState::more_memories).
TEST(CallerMemoryTest, AMemoryExportedUnderThreeNamesIsFoundByEach) {
  Engine engine;
  std::vector<Result<Memory>> found;
  Imports imports;
  imports.add("host", "probe", Func::wrap([&found](Caller& caller) {
                for (const char* name : {"heap", "memory", "also", "none"}) {
                  found.push_back(caller.memory(name));
                }
                found.push_back(caller.memory());
                return int32_t{0};
              }));
  auto instance = load_wat(engine, R"((module
    (import "host" "probe" (func $probe (result i32)))
    (memory 1)
    (export "heap" (memory 0))
    (export "memory" (memory 0))
    (export "also" (memory 0))
    (func (export "run") (result i32) (call $probe))))")
                      .instantiate(imports);
  ASSERT_TRUE(instance.ok()) << instance.error().message();
  ASSERT_TRUE(instance->call<int32_t>("run").ok());
  ASSERT_EQ(found.size(), 5u);
  const uint8_t* base = (*instance->memory("heap")).data();
  for (size_t i : {0, 1, 2, 4}) {
    ASSERT_TRUE(found[i].ok()) << i << ": " << found[i].error().message();
    EXPECT_EQ(found[i]->data(), base);
  }
  ASSERT_FALSE(found[3].ok());
  EXPECT_EQ(found[3].error().message(), "test.wat exports no memory `none`");
}

TEST(CallerMemoryTest, TheHostAsCallerHasNoMemory) {
  std::vector<Error> errors;
  Func probe = Func::wrap([&errors](Caller& caller) {
    for (auto memory : {caller.memory(), caller.memory("memory")}) {
      if (!memory) errors.push_back(memory.error());
    }
    return int32_t{0};
  });
  ASSERT_TRUE(probe.call({}).ok());
  ASSERT_EQ(errors.size(), 2u);
  for (const Error& error : errors) {
    EXPECT_EQ(error.kind(), ErrorKind::NotFound);
    EXPECT_EQ(error.message(), "the caller is the host: it has no memory");
  }
}

TEST(CallerMemoryTest, EachInstanceOfAModuleGetsItsOwnMemory) {
  Engine engine;
  Module module = load_wat(engine, R"((module
    (import "host" "mark" (func $mark (param i32)))
    (memory (export "memory") 1)
    (func (export "run") (param i32) (call $mark (local.get 0)))
    (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))))");
  std::vector<const uint8_t*> bases;
  Imports imports;
  imports.add("host", "mark", Func::wrap([&bases](Caller& caller, int32_t value) -> Status {
                auto memory = caller.memory();
                if (!memory) return std::move(memory).error();
                bases.push_back(memory->data());
                memory->data()[100] = static_cast<uint8_t>(value);
                return {};
              }));
  auto a = module.instantiate(imports);
  auto b = module.instantiate(imports);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(a->call<void>("run", 7).ok());
  ASSERT_TRUE(b->call<void>("run", 9).ok());
  ASSERT_TRUE(a->call<void>("run", 11).ok());
  ASSERT_EQ(bases.size(), 3u);
  EXPECT_EQ(bases[0], (*a->memory("memory")).data());
  EXPECT_EQ(bases[1], (*b->memory("memory")).data());
  EXPECT_NE(bases[0], bases[1]);
  EXPECT_EQ(bases[2], bases[0]);
  EXPECT_EQ(*a->call<int32_t>("load", 100), 11);
  EXPECT_EQ(*b->call<int32_t>("load", 100), 9);
}

// An imported memory exported again: the caller's memory is the imported one, in place by the
// time the start function runs (and calls the host).
TEST(CallerMemoryTest, AReexportedImportIsTheImportedMemoryFromTheStartFunctionOn) {
  Engine engine;
  auto shared = Memory::create(MemoryType{1, 2});
  ASSERT_TRUE(shared.ok());
  std::vector<std::pair<const uint8_t*, int32_t>> seen;
  Imports imports;
  imports.add("env", "memory", *shared);
  imports.add("host", "peek", Func::wrap([&seen](Caller& caller, int32_t at) -> Status {
                auto memory = caller.memory();
                if (!memory) return std::move(memory).error();
                auto byte = memory->view(static_cast<uint32_t>(at), 1);
                if (!byte) return std::move(byte).error();
                seen.emplace_back(memory->data(), (*byte)[0]);
                return {};
              }));
  auto instance = load_wat(engine, R"((module
    (import "env" "memory" (memory 1 2))
    (import "host" "peek" (func $peek (param i32)))
    (export "memory" (memory 0))
    (data (i32.const 40) "\2a")
    (func $start (call $peek (i32.const 40)))
    (start $start)
    (func (export "peek") (param i32) (call $peek (local.get 0)))))")
                      .instantiate(imports);
  ASSERT_TRUE(instance.ok()) << instance.error().message();
  shared->data()[41] = 7;
  ASSERT_TRUE(instance->call<void>("peek", 41).ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], std::make_pair(static_cast<const uint8_t*>(shared->data()), 0x2a));
  EXPECT_EQ(seen[1], std::make_pair(static_cast<const uint8_t*>(shared->data()), 7));
}

// Regression: the handle has no group (it does not keep its instance alive), and importing it
// merged a null group: a crash. It is a link error.
TEST(CallerMemoryTest, ItsHandleCannotBeImported) {
  Engine engine;
  std::optional<Memory> kept;
  Imports imports;
  imports.add("host", "probe", Func::wrap([&kept](Caller& caller) -> Result<int32_t> {
                auto memory = caller.memory();
                if (!memory) return std::move(memory).error();
                kept = *memory;
                return 0;
              }));
  auto instance = load_wat(engine, kGrows).instantiate(imports);
  ASSERT_TRUE(instance.ok()) << instance.error().message();
  ASSERT_EQ(*instance->call<int32_t>("grow_then_probe", 0), 0);
  ASSERT_TRUE(kept.has_value());

  Imports other;
  other.add("env", "memory", *kept);
  auto importer =
      load_wat(engine, R"((module (import "env" "memory" (memory 1))))").instantiate(other);
  ASSERT_FALSE(importer.ok());
  EXPECT_EQ(importer.error().kind(), ErrorKind::Link);
  EXPECT_NE(importer.error().message().find("is a memory from Caller::memory()"), std::string::npos)
      << importer.error().message();
  // Instance::memory()'s handle, which keeps the instance alive, can be.
  Imports fine;
  fine.add("env", "memory", *instance->memory("memory"));
  EXPECT_TRUE(
      load_wat(engine, R"((module (import "env" "memory" (memory 1))))").instantiate(fine).ok());
}

}  // namespace
}  // namespace wasm_sandbox
