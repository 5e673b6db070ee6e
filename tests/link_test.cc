// Imports of every kind, linking instances together, and link errors.
#include "test_util.h"

namespace wasm_sandbox {
namespace {

using testing::load_wat;

TEST(LinkTest, OneInstanceExportsBecomeAnothersImports) {
  Engine engine;
  Module provider = load_wat(engine, R"((module
    (memory (export "mem") 1)
    (global (export "base") i32 (i32.const 1000))
    (table (export "tab") 2 funcref)
    (func $inc (export "inc") (param i32) (result i32) local.get 0 i32.const 1 i32.add)
    (elem (i32.const 0) $inc)))");
  Module consumer = load_wat(engine, R"((module
    (import "p" "mem" (memory 1))
    (import "p" "base" (global $base i32))
    (import "p" "tab" (table 2 funcref))
    (import "p" "inc" (func $inc (param i32) (result i32)))
    (type $t (func (param i32) (result i32)))
    (func $double (param i32) (result i32) local.get 0 i32.const 2 i32.mul)
    (elem (i32.const 1) $double)
    (func (export "run") (param i32) (result i32)
      (i32.store (i32.const 0) (call $inc (local.get 0)))
      (i32.add (global.get $base) (i32.load (i32.const 0))))
    (func (export "via_table") (param i32 i32) (result i32)
      local.get 1 local.get 0 call_indirect (type $t))))");
  auto p = provider.instantiate();
  ASSERT_TRUE(p.ok());
  Imports imports;
  imports.add_instance("p", *p);
  auto c = consumer.instantiate(imports);
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(*c->call<int32_t>("run", 41), 1042);
  EXPECT_EQ(p->memory("mem")->data()[0], 42);            // the memory is shared
  EXPECT_EQ(*c->call<int32_t>("via_table", 0, 10), 11);  // provider's function
  EXPECT_EQ(*c->call<int32_t>("via_table", 1, 10), 20);  // consumer's, in provider's table
  // The provider's table now holds a consumer function: the group keeps both alive.
  Table table = *p->table("tab");
  c.value() = *p;  // drop the consumer handle
  p.value() = *provider.instantiate();
  EXPECT_FALSE(table.get(1)->is_null_ref());
}

TEST(LinkTest, HostGlobalsMemoriesAndTables) {
  Engine engine;
  Module module = load_wat(engine, R"((module
    (import "h" "g" (global $g (mut i64)))
    (import "h" "m" (memory 1 2))
    (import "h" "t" (table 1 externref))
    (func (export "run") (param externref) (result i64)
      (table.set 0 (i32.const 0) (local.get 0))
      (global.set $g (i64.add (global.get $g) (i64.const 1)))
      (i64.store (i32.const 8) (global.get $g))
      global.get $g)))");
  auto g = Global::create(GlobalType{ValType::I64, true}, Value::i64(9));
  auto m = Memory::create(MemoryType{1, 2});
  auto t = Table::create(TableType{ValType::ExternRef, 1, std::nullopt});
  ASSERT_TRUE(g.ok() && m.ok() && t.ok());
  Imports imports;
  imports.add("h", "g", *g).add("h", "m", *m).add("h", "t", *t);
  auto instance = module.instantiate(imports);
  ASSERT_TRUE(instance.ok()) << instance.error().message();
  int token = 0;
  auto r = instance->call("run", {Value::externref(&token)});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ((*r)[0].i64(), 10);
  EXPECT_EQ(g->get().i64(), 10);
  EXPECT_EQ(m->data()[8], 10);
  EXPECT_EQ(t->get(0)->externref(), &token);
}

TEST(LinkTest, LinkErrorsNameTheImportAndBothTypes) {
  Engine engine;
  Module module = load_wat(engine, R"((module
    (import "env" "f" (func (param i32)))
    (import "env" "m" (memory 2))))");
  auto missing = module.instantiate();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::Link);
  EXPECT_NE(missing.error().message().find("import env.f (func (i32) -> ()) is not provided"),
            std::string::npos)
      << missing.error().message();

  Imports imports;
  imports.add("env", "f", Func::wrap([](int64_t) {}));
  imports.add("env", "m", *Memory::create(MemoryType{1, std::nullopt}));
  auto mismatch = module.instantiate(imports);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message().find(
                "import env.f: expected func (i32) -> (), got func (i64) -> ()"),
            std::string::npos)
      << mismatch.error().message();

  imports.add("env", "f", Func::wrap([](int32_t) {}));
  auto small = module.instantiate(imports);
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.error().message().find("expected memory pages 2.., got memory pages 1.."),
            std::string::npos)
      << small.error().message();
}

// A default-constructed handle of any kind is refused at link time, not dereferenced later.
TEST(LinkTest, EmptyHandlesAreLinkErrors) {
  Engine engine;
  Module module = load_wat(engine, R"((module
    (import "env" "f" (func))
    (import "env" "g" (global i32))
    (import "env" "m" (memory 0))
    (import "env" "t" (table 0 funcref))))");
  Imports full;
  full.add("env", "f", Func::wrap([] {}));
  full.add("env", "g", *Global::create(GlobalType{ValType::I32, false}, Value::i32(0)));
  full.add("env", "m", *Memory::create(MemoryType{0, std::nullopt}));
  full.add("env", "t", *Table::create(TableType{ValType::FuncRef, 0, std::nullopt}));
  ASSERT_TRUE(module.instantiate(full).ok());
  const std::pair<const char*, Extern> empties[] = {
      {"f", Func()}, {"g", Global()}, {"m", Memory()}, {"t", Table()}};
  for (const auto& [name, empty] : empties) {
    Imports imports = full;
    imports.add("env", name, empty);
    auto linked = module.instantiate(imports);
    ASSERT_FALSE(linked.ok()) << name;
    EXPECT_EQ(linked.error().kind(), ErrorKind::Link);
    EXPECT_NE(linked.error().message().find(std::string("import env.") + name), std::string::npos)
        << linked.error().message();
    EXPECT_NE(linked.error().message().find("is given an empty handle"), std::string::npos)
        << linked.error().message();
  }
}

}  // namespace
}  // namespace wasm_sandbox
