// `wasm-sandbox serve --modules DIR [--port N] [--host ADDR] [--threads N] [limits]`: the
// HTTP server of src/serve/ (docs/serve.md) until SIGINT or SIGTERM.

#include <cstdio>

#include "cli/commands.h"
#include "cli/stop_signals.h"
#include "serve/server.h"

namespace wasm_sandbox::cli {
namespace {

// Without --timeout, a call may run this long: a runaway guest must not hold a thread forever.
constexpr std::chrono::milliseconds kDefaultTimeout{1000};

}  // namespace

int run_serve(const ServeOptions& options) {
  auto config = engine_config(options.safety);
  if (!config) {
    print_error(config.error());
    return kExitUsage;
  }
  if (!options.safety.timeout_ms) config->limits.call_timeout = kDefaultTimeout;

  serve::ServeConfig serve_config;
  serve_config.modules_dir = options.modules;
  serve_config.host = options.host;
  serve_config.port = options.port;
  serve_config.threads = options.threads;
  serve_config.engine = *config;

  // Before any thread starts (stop_signals.h).
  const sigset_t stop_signals = block_stop_signals();

  std::vector<Error> skipped;
  auto server = serve::Server::create(serve_config, &skipped);
  for (const Error& error : skipped) print_error("skipped: " + error.message());
  if (!server) {
    print_error(server.error());
    return kExitUsage;
  }
  auto port = (*server)->bind();
  if (!port) {
    print_error(port.error());
    return kExitFailure;
  }
  std::printf("listening on http://%s:%d (%zu modules)\n", options.host.c_str(), *port,
              (*server)->module_count());
  std::fflush(stdout);

  run_until_stopped(**server, stop_signals);
  return kExitOk;
}

}  // namespace wasm_sandbox::cli
