// `serve`: the HTTP server over loopback, in process (serve::Server) and as the CLI command.
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "serve/server.h"
#include "test_util.h"

extern char** environ;

namespace wasm_sandbox {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kCalc = R"((module
  (memory (export "memory") 1)
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "mul64") (param i64 i64) (result i64) local.get 0 local.get 1 i64.mul)
  (func (export "half") (param f64) (result f64) local.get 0 f64.const 2 f64.div)
  (func (export "boom") unreachable)
  (func (export "spin") (loop br 0))))";

// A directory with calc.wat, add.wasm (the guest) and a broken module.
fs::path make_modules_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("serve-" + name);
  fs::remove_all(dir);
  testing::write_file(dir / "calc.wat", kCalc);
  testing::write_file(dir / "broken.wat", "(module (func (export \"f\") i32.add))");
  testing::write_file(dir / "notes.txt", "not a module");
  fs::copy_file(testing::guest("add.wasm"), dir / "add.wasm");
  return dir;
}

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_modules_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    serve::ServeConfig config;
    config.modules_dir = dir_;
    config.port = 0;
    config.threads = 8;
    config.engine.tier = Tier::Baseline;
    config.engine.cache.disk = false;
    config.engine.limits.call_timeout = std::chrono::milliseconds(200);
    auto server = serve::Server::create(config, &skipped_);
    ASSERT_TRUE(server.ok()) << server.error().message();
    server_ = std::move(*server);
    auto port = server_->bind();
    ASSERT_TRUE(port.ok()) << port.error().message();
    port_ = *port;
    thread_ = std::thread([this] { server_->run(); });
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    fs::remove_all(dir_);
  }

  httplib::Result post(const std::string& path, const std::string& body) {
    httplib::Client client("127.0.0.1", port_);
    client.set_tcp_nodelay(true);
    return client.Post(path.c_str(), body, "application/json");
  }
  httplib::Result get(const std::string& path) {
    httplib::Client client("127.0.0.1", port_);
    return client.Get(path.c_str());
  }

  // Asserts that the response is an error of `status` and `kind` whose message names
  // `fragment`.
  static void expect_error(const httplib::Result& res, int status, std::string_view kind,
                           std::string_view fragment) {
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, status) << res->body;
    const json body = json::parse(res->body);
    EXPECT_EQ(body["kind"], kind) << res->body;
    EXPECT_NE(body["error"].get<std::string>().find(fragment), std::string::npos) << res->body;
  }

  fs::path dir_;
  std::vector<Error> skipped_;
  std::unique_ptr<serve::Server> server_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(ServeTest, SkipsModulesThatDoNotLoadAndNamesThem) {
  EXPECT_EQ(server_->module_count(), 2u);  // add, calc
  ASSERT_EQ(skipped_.size(), 1u);
  EXPECT_NE(skipped_[0].message().find("broken.wat"), std::string::npos) << skipped_[0].message();
}

TEST_F(ServeTest, CallReturnsResults) {
  auto res = post("/call/add/add", "[5,3]");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"results":[8]})");
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  // i64 beyond 2^53: a string either way.
  res = post("/call/calc/mul64", R"(["1099511627776", 1048576])");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, R"({"results":["1152921504606846976"]})") << res->body;
  res = post("/call/calc/half", "[3]");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, R"({"results":[1.5]})");
  res = post("/call/calc/mul64", "[3, -4]");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, R"({"results":[-12]})");
}

TEST_F(ServeTest, BadRequestsGet400NamingTheProblem) {
  expect_error(post("/call/add/add", "[5,"), 400, "bad_request", "not JSON");
  expect_error(post("/call/add/add", "[5]"), 400, "bad_request", "expected 2 arguments");
  expect_error(post("/call/add/add", R"([5, "x"])"), 400, "bad_request", "argument 2");
  expect_error(post("/call/add/add", R"({"a":1})"), 400, "bad_request", "JSON array");
}

TEST_F(ServeTest, UnknownModuleFunctionOrRouteGets404) {
  expect_error(post("/call/nope/add", "[]"), 404, "not_found", "no module named `nope`");
  expect_error(post("/call/add/nope", "[]"), 404, "not_found", "no function `nope`");
  expect_error(get("/elsewhere"), 404, "not_found", "");
}

TEST_F(ServeTest, TrappingGuestGetsErrorAndServerGoesOn) {
  auto res = post("/call/calc/boom", "[]");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 422);
  json body = json::parse(res->body);
  EXPECT_EQ(body["kind"], "unreachable");
  EXPECT_NE(body["error"].get<std::string>().find("boom"), std::string::npos);
  res = post("/call/calc/add", "[1,2]");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"results":[3]})");
}

TEST_F(ServeTest, RunawayGuestTimesOutAndServerGoesOn) {
  const auto began = std::chrono::steady_clock::now();
  auto res = post("/call/calc/spin", "[]");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 504);
  EXPECT_EQ(json::parse(res->body)["kind"], "timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(5));
  res = post("/call/calc/add", "[2,2]");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, R"({"results":[4]})");
}

TEST_F(ServeTest, HealthAndMetrics) {
  auto res = get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body), json::parse(R"({"status":"ok","modules":2})"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(post("/call/add/add", "[1,1]"));
  (void)post("/call/calc/boom", "[]");
  (void)get("/elsewhere");
  res = get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("\nwasm_sandbox_calls_total 4\n"), std::string::npos) << res->body;
  EXPECT_NE(res->body.find("wasm_sandbox_traps_total{kind=\"unreachable\"} 1\n"),
            std::string::npos);
  EXPECT_NE(res->body.find("wasm_sandbox_http_responses_total{code=\"200\"} 4\n"),
            std::string::npos)
      << res->body;
  EXPECT_NE(res->body.find("wasm_sandbox_http_responses_total{code=\"422\"} 1\n"),
            std::string::npos);
  EXPECT_NE(res->body.find("wasm_sandbox_http_responses_total{code=\"404\"} 1\n"),
            std::string::npos);
}

TEST_F(ServeTest, ConcurrentClients) {
  // One request first: httplib's client builds its regexes on first use, inside Debian's
  // library, which ThreadSanitizer cannot see synchronize (tests/tsan.supp).
  ASSERT_TRUE(post("/call/add/add", "[0,0]"));
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      httplib::Client client("127.0.0.1", port_);  // one keep-alive connection
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);  // else headers and body wait for a delayed ACK
      for (int i = 0; i < 100; ++i) {
        auto res =
            client.Post("/call/add/add", "[" + std::to_string(t) + "," + std::to_string(i) + "]",
                        "application/json");
        if (res && res->body == "{\"results\":[" + std::to_string(t + i) + "]}") ++ok;
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(ok, 400);
}

// The command: prints the port it listens on, serves, and stops on SIGTERM.
TEST(ServeCommandTest, ListensOnAFreePortAndStopsOnSigterm) {
  const fs::path dir = make_modules_dir("cli");
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  const std::string modules = dir.string();
  const char* argv[] = {CLI_PATH, "serve",    "--modules", modules.c_str(), "--port", "0",
                        "--tier", "baseline", "--timeout", "200",           nullptr};
  pid_t pid;
  const int spawned =
      posix_spawn(&pid, CLI_PATH, &actions, nullptr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  ASSERT_EQ(spawned, 0);
  close(out[1]);
  FILE* stdout_of = fdopen(out[0], "r");
  char line[256] = {};
  ASSERT_TRUE(fgets(line, sizeof line, stdout_of));
  int port = 0;
  ASSERT_EQ(sscanf(line, "listening on http://127.0.0.1:%d", &port), 1) << line;
  httplib::Client client("127.0.0.1", port);
  auto res = client.Post("/call/add/add", "[40,2]", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, R"({"results":[42]})");
  res = client.Post("/call/calc/spin", "[]", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 504);
  res = client.Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  fclose(stdout_of);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace wasm_sandbox
