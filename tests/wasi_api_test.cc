// The WASI capabilities through the C++ API: what a guest gets by default (nothing), and each
// grant: stdio, environment, clocks, random, sockets, exit status. The guest is WAT that calls
// the WASI functions directly, so each test sees the raw errno.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "test_util.h"

namespace wasm_sandbox {
namespace {

// Exports thin wrappers over WASI calls. Memory layout: 0..63 scratch results, 64.. iovecs,
// 256.. data.
constexpr std::string_view kProbe = R"(
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $env_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $prestat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_send" (func $send (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_recv" (func $recv (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 256) "hello world")
  (data (i32.const 300) "ping")
  ;; one iovec at 64 over [ptr, ptr+len)
  (func $iov (param $ptr i32) (param $len i32)
    (i32.store (i32.const 64) (local.get $ptr))
    (i32.store (i32.const 68) (local.get $len)))
  (func (export "write_hello") (param $fd i32) (result i32)
    (call $iov (i32.const 256) (i32.const 11))
    (call $fd_write (local.get $fd) (i32.const 64) (i32.const 1) (i32.const 0)))
  (func (export "written") (result i32) (i32.load (i32.const 0)))
  (func (export "write_bad_pointer") (result i32)
    (call $iov (i32.const 65000) (i32.const 1000))
    (call $fd_write (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 0)))
  ;; reads up to $len bytes of stdin into 512; returns errno, count at 0
  (func (export "read_stdin") (param $len i32) (result i32)
    (call $iov (i32.const 512) (local.get $len))
    (call $fd_read (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 0)))
  (func (export "byte_at") (param $at i32) (result i32) (i32.load8_u (local.get $at)))
  (func (export "now") (param $clock i32) (result i64)
    (drop (call $clock (local.get $clock) (i64.const 1) (i32.const 8)))
    (i64.load (i32.const 8)))
  ;; one relative clock subscription on the monotonic clock
  (func (export "sleep") (param $ns i64) (result i32)
    (i64.store (i32.const 1024) (i64.const 42))      ;; userdata
    (i32.store8 (i32.const 1032) (i32.const 0))      ;; clock
    (i32.store (i32.const 1040) (i32.const 1))       ;; monotonic
    (i64.store (i32.const 1048) (local.get $ns))     ;; timeout
    (i64.store (i32.const 1056) (i64.const 0))       ;; precision
    (i32.store16 (i32.const 1064) (i32.const 0))     ;; relative
    (call $poll (i32.const 1024) (i32.const 2048) (i32.const 1) (i32.const 0)))
  (func (export "random64") (result i64)
    (drop (call $random (i32.const 16) (i32.const 8)))
    (i64.load (i32.const 16)))
  (func (export "env_count") (result i32)
    (drop (call $env_sizes (i32.const 0) (i32.const 4)))
    (i32.load (i32.const 0)))
  (func (export "arg_count") (result i32)
    (drop (call $args_sizes (i32.const 0) (i32.const 4)))
    (i32.load (i32.const 0)))
  (func (export "prestat") (param $fd i32) (result i32)
    (call $prestat (local.get $fd) (i32.const 0)))
  (func (export "send_ping") (param $fd i32) (result i32)
    (call $iov (i32.const 300) (i32.const 4))
    (call $send (local.get $fd) (i32.const 64) (i32.const 1) (i32.const 0) (i32.const 0)))
  (func (export "recv") (param $fd i32) (result i32)
    (call $iov (i32.const 512) (i32.const 64))
    (call $recv (local.get $fd) (i32.const 64) (i32.const 1) (i32.const 0) (i32.const 0)
                (i32.const 4)))
  (func (export "_start") (call $exit (i32.const 7))))
)";

constexpr int32_t kEfault = 21, kEbadf = 8, kEnospc = 51;

struct Probe {
  Wasi wasi;
  Instance instance;
};

Probe start(const WasiConfig& config) {
  auto wasi = Wasi::create(config);
  EXPECT_TRUE(wasi.ok()) << wasi.error().message();
  Engine engine;
  Imports imports;
  wasi->add_to(imports);
  auto instance = testing::load_wat(engine, kProbe).instantiate(imports);
  EXPECT_TRUE(instance.ok()) << instance.error().message();
  return {std::move(wasi).value(), std::move(instance).value()};
}

TEST(WasiApiTest, NothingIsGrantedByDefault) {
  Probe p = start(WasiConfig());
  EXPECT_EQ(*p.instance.call<int32_t>("arg_count"), 1);  // the program name only
  EXPECT_EQ(*p.instance.call<int32_t>("env_count"), 0);
  EXPECT_EQ(*p.instance.call<int32_t>("prestat", 3), kEbadf);  // no directories
  EXPECT_EQ(*p.instance.call<int64_t>("now", 0), 0);           // a virtual clock at zero
  EXPECT_EQ(*p.instance.call<int32_t>("write_hello", 1), 0);   // stdout discarded
  EXPECT_EQ(*p.instance.call<int32_t>("written"), 11);
  EXPECT_EQ(*p.instance.call<int32_t>("read_stdin", 16), 0);  // stdin is empty
  EXPECT_EQ(*p.instance.call<int32_t>("written"), 0);
  EXPECT_EQ(p.wasi.stdout_text(), "");
}

TEST(WasiApiTest, CaptureKeepsOutputUpToItsLimit) {
  Probe p = start(WasiConfig().capture_stdout(5).capture_stderr());
  EXPECT_EQ(*p.instance.call<int32_t>("write_hello", 1), 0);
  EXPECT_EQ(*p.instance.call<int32_t>("written"), 5);
  EXPECT_EQ(*p.instance.call<int32_t>("write_hello", 1), kEnospc);
  EXPECT_EQ(p.wasi.stdout_text(), "hello");
  EXPECT_TRUE(p.wasi.stdout_truncated());
  EXPECT_EQ(*p.instance.call<int32_t>("write_hello", 2), 0);
  EXPECT_EQ(p.wasi.stderr_text(), "hello world");
  EXPECT_FALSE(p.wasi.stderr_truncated());
  EXPECT_EQ(*p.instance.call<int32_t>("write_hello", 0), kEbadf);  // stdin is not writable
}

TEST(WasiApiTest, StdinFromBytesIsReadThenEnds) {
  Probe p = start(WasiConfig().stdin_bytes("abc"));
  EXPECT_EQ(*p.instance.call<int32_t>("read_stdin", 2), 0);
  EXPECT_EQ(*p.instance.call<int32_t>("written"), 2);
  EXPECT_EQ(*p.instance.call<int32_t>("byte_at", 513), 'b');
  EXPECT_EQ(*p.instance.call<int32_t>("read_stdin", 10), 0);
  EXPECT_EQ(*p.instance.call<int32_t>("written"), 1);
  EXPECT_EQ(*p.instance.call<int32_t>("read_stdin", 10), 0);
  EXPECT_EQ(*p.instance.call<int32_t>("written"), 0);
}

TEST(WasiApiTest, BadGuestPointersAreEfaultNotACrash) {
  Probe p = start(WasiConfig().capture_stdout());
  EXPECT_EQ(*p.instance.call<int32_t>("write_bad_pointer"), kEfault);
  EXPECT_EQ(p.wasi.stdout_text(), "");
}

TEST(WasiApiTest, VirtualClockIsSetByTheHostAndSleepsTakeNoTime) {
  Probe p = start(WasiConfig().virtual_clock(1000));
  EXPECT_EQ(*p.instance.call<int64_t>("now", 0), 1000);
  EXPECT_EQ(*p.instance.call<int64_t>("now", 1), 1000);
  p.wasi.advance_clock(500);
  EXPECT_EQ(*p.instance.call<int64_t>("now", 1), 1500);
  EXPECT_EQ(*p.instance.call<int32_t>("sleep", int64_t{3'600'000'000'000}), 0);  // an hour
  EXPECT_EQ(*p.instance.call<int64_t>("now", 1), 1500 + 3'600'000'000'000);
}

TEST(WasiApiTest, RealClocksMoveAndSleepsWait) {
  Probe p = start(WasiConfig().real_clocks());
  const int64_t before = *p.instance.call<int64_t>("now", 1);
  EXPECT_EQ(*p.instance.call<int32_t>("sleep", int64_t{20'000'000}), 0);  // 20 ms
  EXPECT_GE(*p.instance.call<int64_t>("now", 1) - before, 20'000'000);
}

TEST(WasiApiTest, SeededRandomRepeatsAndSeedsDiffer) {
  Probe a = start(WasiConfig().seeded_random(7));
  Probe b = start(WasiConfig().seeded_random(7));
  Probe c = start(WasiConfig().seeded_random(8));
  const int64_t first = *a.instance.call<int64_t>("random64");
  EXPECT_EQ(first, *b.instance.call<int64_t>("random64"));
  EXPECT_NE(first, *c.instance.call<int64_t>("random64"));
  EXPECT_NE(first, *a.instance.call<int64_t>("random64"));  // the stream moves on
}

TEST(WasiApiTest, OnlyNamedHostVariablesAreInherited) {
  setenv("WS_TEST_GRANTED", "1", 1);
  setenv("WS_TEST_SECRET", "2", 1);
  Probe p = start(WasiConfig().inherit_env("WS_TEST_GRANTED").inherit_env("WS_TEST_UNSET_X"));
  EXPECT_EQ(*p.instance.call<int32_t>("env_count"), 1);
  Probe q = start(WasiConfig().env("A", "1").env("B", "2"));
  EXPECT_EQ(*q.instance.call<int32_t>("env_count"), 2);
}

TEST(WasiApiTest, ProcExitEndsTheCallWithItsStatus) {
  Probe p = start(WasiConfig());
  auto direct = p.instance.call("_start", {});
  ASSERT_FALSE(direct.ok());
  EXPECT_EQ(direct.error().trap(), TrapKind::Exit);
  EXPECT_EQ(direct.error().exit_code(), 7);
  EXPECT_EQ(direct.error().message(), "test.wat: `_start`: exited with code 7");
  EXPECT_EQ(*p.wasi.run(p.instance), 7);
  EXPECT_EQ(*p.instance.call<int64_t>("now", 0), 0);  // the instance stays usable
}

TEST(WasiApiTest, HandedInSocketSendsAndReceives) {
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  Probe p = start(WasiConfig().socket(pair[0]));
  close(pair[0]);                                              // the Wasi holds its own duplicate
  EXPECT_EQ(*p.instance.call<int32_t>("prestat", 3), kEbadf);  // a socket, not a directory
  EXPECT_EQ(*p.instance.call<int32_t>("send_ping", 3), 0);
  char buf[8] = {};
  ASSERT_EQ(read(pair[1], buf, sizeof buf), 4);
  EXPECT_EQ(std::string(buf, 4), "ping");
  ASSERT_EQ(write(pair[1], "pong", 4), 4);
  EXPECT_EQ(*p.instance.call<int32_t>("recv", 3), 0);
  EXPECT_EQ(*p.instance.call<int32_t>("written"), 4);
  EXPECT_EQ(*p.instance.call<int32_t>("byte_at", 512), 'p');
  EXPECT_EQ(*p.instance.call<int32_t>("send_ping", 1), 57);  // stdout is not a socket: ENOTSOCK
  close(pair[1]);
}

TEST(WasiApiTest, BadConfigurationIsOneLineNamingIt) {
  auto missing = Wasi::create(WasiConfig().preopen("/nonexistent/dir", "/data"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message(),
            "cannot open directory /nonexistent/dir: No such file or directory");
  auto stdin_file = Wasi::create(WasiConfig().stdin_file("/nonexistent/in"));
  ASSERT_FALSE(stdin_file.ok());
  EXPECT_EQ(stdin_file.error().message(),
            "cannot read stdin from /nonexistent/in: No such file or directory");
  auto socket = Wasi::create(WasiConfig().socket(STDIN_FILENO));
  EXPECT_FALSE(socket.ok());
  auto env = Wasi::create(WasiConfig().env("", "x"));
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.error().message(), "environment variable `=x` is malformed");
}

}  // namespace
}  // namespace wasm_sandbox
