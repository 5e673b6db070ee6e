// Serving until SIGINT or SIGTERM: `serve` and `store serve`.
//
// The signals are taken by a thread of their own (sigwait) and blocked in every other thread:
// block_stop_signals() must run before the command starts any thread, so that each inherits
// the mask.
#pragma once

#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <thread>

namespace wasm_sandbox::cli {

// Blocks SIGINT and SIGTERM in the calling thread; returns the set, for run_until_stopped().
inline sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// Runs `server.run()` (a bound server) until it returns or one of `signals` arrives, which
// calls `server.stop()`; then prints "stopped". `Server` has run() and a thread-safe stop().
template <class Server>
void run_until_stopped(Server& server, const sigset_t& signals) {
  std::thread signal_waiter([&server, signals] {
    int signal = 0;
    sigwait(&signals, &signal);
    server.stop();
  });
  server.run();
  // The waiter may still be inside stop(): the server must outlive it. If run() returned on
  // its own, the waiter is woken (the signal is blocked everywhere, so only sigwait takes it).
  pthread_kill(signal_waiter.native_handle(), SIGTERM);
  signal_waiter.join();
  std::printf("stopped\n");
  std::fflush(stdout);
}

}  // namespace wasm_sandbox::cli
