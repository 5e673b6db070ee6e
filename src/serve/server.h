// The HTTP server behind `wasm-sandbox serve` (docs/serve.md): calls exported functions of
// the modules in a directory, one pooled instance per request, under the engine's limits.
//
//   POST /call/{module}/{function}   body: JSON array of arguments -> {"results":[...]}
//   GET  /metrics                    the engine's metrics and HTTP counters (Prometheus text)
//   GET  /health                     {"status":"ok","modules":N}
//
// Errors are JSON {"error":"...","kind":"..."}: 400 bad request (JSON, arity, types), 404
// unknown route, module or function, 413 body too large, 422 the guest trapped, 503 the
// engine is at its instance limit, 504 the call timed out, 500 anything else. A trapping or
// runaway guest costs only its instance: the server answers the next request.
#pragma once

#include <array>
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "serve/instance_pool.h"
#include "wasm_sandbox/engine.h"

namespace wasm_sandbox::serve {

class HttpServer;  // httplib::Server, server.cc

struct ServeConfig {
  // Every *.wasm and *.wat file directly in it is served, named after its stem.
  std::filesystem::path modules_dir;
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (Server::port() says which)
  // Threads serving connections: each keep-alive connection holds one while it is open, so
  // this many clients are served at once; more wait for a thread.
  size_t threads = 64;
  size_t max_body_bytes = 1 << 20;  // larger bodies get 413
  // The engine's settings: limits (Limits::call_timeout applies to every call), fuel, tier.
  EngineConfig engine;
};

// Thread-safe: run() on one thread, stop() from any (not from a signal handler).
class Server {
 public:
  // Loads the modules and makes one instance of each, which checks that it instantiates
  // without imports. A module that fails is skipped and its error added to `skipped` (the
  // message names the file). Errors: the directory cannot be read (NotFound, Io), or no module
  // could be loaded from it (InvalidModule, naming the directory).
  static Result<std::unique_ptr<Server>> create(const ServeConfig& config,
                                                std::vector<Error>* skipped);
  ~Server();

  // Binds the listening socket; the port, useful when ServeConfig::port is 0. Io naming the
  // address if it cannot bind.
  Result<int> bind();
  // Serves until stop(). Requires bind().
  void run();
  // Stops accepting, lets requests in progress finish, and makes run() return. Idempotent.
  void stop();

  size_t module_count() const { return modules_.size(); }
  const Engine& engine() const { return engine_; }

 private:
  explicit Server(const ServeConfig& config);
  void install_routes();
  // The body of GET /metrics.
  std::string metrics_text() const;

  const ServeConfig config_;
  const Engine engine_;
  // Constant after create(): module name -> its pool.
  std::map<std::string, std::unique_ptr<InstancePool>, std::less<>> modules_;
  std::unique_ptr<HttpServer> http_;
  // Responses sent, by status code (index: code - 100).
  std::array<std::atomic<uint64_t>, 500> responses_{};
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> run_entered_{false};
  std::atomic<bool> run_returned_{false};
};

}  // namespace wasm_sandbox::serve
