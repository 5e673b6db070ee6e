// `wasm-sandbox serve --modules DIR [--port N] [--host ADDR] [--threads N] [limits]`: the
// HTTP server of src/serve/ (docs/serve.md) until SIGINT or SIGTERM.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <thread>

#include "cli/commands.h"
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

  // SIGINT and SIGTERM are taken by a thread of their own (sigwait), blocked in every other
  // thread: blocked here, before any thread starts, so each inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

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

  serve::Server* running = server->get();
  std::thread signal_waiter([running, stop_signals] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    running->stop();
  });
  running->run();
  // The waiter may still be inside stop(): the server must outlive it. If run() returned on
  // its own, the waiter is woken (the signal is blocked everywhere, so only sigwait takes it).
  pthread_kill(signal_waiter.native_handle(), SIGTERM);
  signal_waiter.join();
  std::printf("stopped\n");
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace wasm_sandbox::cli
