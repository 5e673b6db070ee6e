// Golden tests of the `wasm-sandbox` command: output, stderr and exit code.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace wasm_sandbox {
namespace {

using testing::guest;

using testing::cli;
using testing::CliRun;

TEST(CliTest, CallPrintsResultsOnePerLine) {
  CliRun r = cli("call " + guest("add.wasm") + " add 5 3");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "8\n");
  r = cli("call " + guest("add.wasm") + " add -- -7 2");
  EXPECT_EQ(r.out, "-5\n");
  r = cli("call " + guest("add.wasm") + " average 1 2.5");
  EXPECT_EQ(r.out, "1.75\n");
  r = cli("call " + guest("math.wasm") + " lcg 1 1000");
  EXPECT_EQ(r.exit_code, 0);
  uint64_t expected = 1;  // the same recurrence as guests/math.c, computed natively
  for (int i = 0; i < 1000; ++i)
    expected = expected * 6364136223846793005ull + 1442695040888963407ull;
  EXPECT_EQ(r.out, std::to_string(static_cast<int64_t>(expected)) + "\n");  // printed as i64
}

TEST(CliTest, CallAcceptsWatAndMultipleResults) {
  const std::string path = testing::temp_path("cli_multi.wat");
  std::ofstream(path) << "(module (func (export \"f\") (param i64 f32) (result i64 f32 f64)"
                         " local.get 0 local.get 1 f64.const 2.5))";
  CliRun r = cli("call " + path + " f 9 1.5");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "9\n1.5\n2.5\n");
}

TEST(CliTest, TrapPrintsKindAndFunctionAndExitsOne) {
  CliRun r = cli("call " + guest("math.wasm") + " divide 7 0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out,
            "wasm-sandbox: " + guest("math.wasm") + ": `divide` trapped: integer divide by zero\n");
  r = cli("call " + guest("math.wasm") + " peek 1000000");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("`peek` trapped: out of bounds"), std::string::npos);
}

TEST(CliTest, BadInputIsOneLineAndExitsTwo) {
  const std::string math = guest("math.wasm");
  const std::string truncated = testing::temp_path("cli_truncated.wasm");
  {
    std::ifstream in(math, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  const struct {
    std::string args;
    std::string message;
  } cases[] = {
      {"call /nonexistent.wasm f", "/nonexistent.wasm: no such file"},
      {"call " + truncated + " fib 1", truncated + ": byte 0x"},
      {"call " + math + " fib", "`fib` takes 1 argument (i32) -> (i32), got 0"},
      {"call " + math + " fib 1 2", "`fib` takes 1 argument (i32) -> (i32), got 2"},
      {"call " + math + " fib abc", "`fib` argument 1 (`abc`) is not a valid i32"},
      {"call " + math + " nope 1", "no export named `nope`"},
      {"call " + math + " memory", "export `memory` is not a function"},
  };
  for (const auto& c : cases) {
    CliRun r = cli(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.message), std::string::npos) << c.args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    EXPECT_EQ(r.out.rfind("wasm-sandbox: ", 0), 0u) << r.out;
  }
}

TEST(CliTest, InspectListsTheInterface) {
  CliRun r = cli("inspect " + guest("math.wasm"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("  fib: func (i32) -> (i32)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  lcg: func (i64, i32) -> (i64)\n"), std::string::npos);
  EXPECT_NE(r.out.find("memories: 1\n"), std::string::npos);
}

TEST(CliTest, WastRunsScriptsAndCounts) {
  const std::string path = testing::temp_path("cli_script.wast");
  std::ofstream(path) << R"((module (func (export "add") (param i32 i32) (result i32)
      local.get 0 local.get 1 i32.add))
    (assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
    (assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 4))
    (assert_trap (invoke "add" (i32.const 1) (i32.const 2)) "unreachable")
    (assert_invalid (module (func (result i32))) "type mismatch"))";
  CliRun r = cli("wast " + path);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("cli_script.wast: 3 passed, 2 failed\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("total: 3 passed, 2 failed\n"), std::string::npos);
  EXPECT_NE(r.out.find("got i32:3, expected i32:\"4\""), std::string::npos) << r.out;
}

}  // namespace
}  // namespace wasm_sandbox

namespace wasm_sandbox {
namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = testing::temp_path(name);
  std::ofstream(path) << text;
  return path;
}

TEST(CliRunTest, ExitsWithTheGuestsStatusAndPassesArgumentsAndStdin) {
  const std::string dir = testing::temp_path("cli_run_dir");
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/in.txt") << "one two\nthree\n";
  CliRun r = cli("run --dir " + dir + "::/d:ro " + guest("wordcount.wasm") + " -- /d/in.txt");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "      2       3      14 /d/in.txt\n");
  r = cli("run --stdin " + dir + "/in.txt " + guest("checksum.wasm") + " -- -");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find(" 14 -"), std::string::npos) << r.out;
  const std::string exit7 =
      write_temp("exit7.wat",
                 R"((module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1) (func (export "_start") (call $exit (i32.const 7)))))");
  EXPECT_EQ(cli("run " + exit7).exit_code, 7);
}

TEST(CliRunTest, TrapsAndDeniedCapabilitiesAreOneLine) {
  const std::string trap =
      write_temp("trap_start.wat",
                 "(module (memory (export \"memory\") 1) (func (export \"_start\") unreachable))");
  CliRun r = cli("run " + trap);
  EXPECT_EQ(r.exit_code, 134);
  EXPECT_EQ(r.out, "wasm-sandbox: " + trap + ": `_start` trapped: unreachable executed\n");
  const std::string imports = write_temp(
      "imports_env.wat", R"((module (import "env" "launch" (func)) (func (export "_start"))))");
  r = cli("run " + imports);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out,
            "wasm-sandbox: " + imports + ": import env.launch (func () -> ()) is not provided\n");
  r = cli("run --dir /nonexistent::/x " + trap);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "wasm-sandbox: cannot open directory /nonexistent: No such file or directory\n");
  r = cli("run --dir ::/x " + trap);
  EXPECT_EQ(r.out, "wasm-sandbox: --dir ::/x: expected HOST[::GUEST][:ro]\n");
  r = cli("run --env NOEQUALS " + trap);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "wasm-sandbox: --env NOEQUALS: expected KEY=VALUE\n");
  r = cli("run " + guest("add.wasm"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "wasm-sandbox: " + guest("add.wasm") + ": no export named `_start`\n");
}

}  // namespace
}  // namespace wasm_sandbox
