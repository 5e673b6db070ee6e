// `wasm-sandbox store serve DB` and `wasm-sandbox store sync DB TREE URL`: store sync between
// processes over HTTP (docs/store.md, "Sync"; include/wasm_sandbox/store_http.h). Parsed
// apart from `store put|get|del|scan` (whose positionals would take the words `serve` and
// `sync`): main() hands these two over before its own parse.

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"
#include "cli/stop_signals.h"
#include "wasm_sandbox/store_http.h"

namespace wasm_sandbox::cli {
namespace {

struct StoreServeOptions {
  std::string db;
  std::string host = "127.0.0.1";
  int port = 0;
  size_t threads = 8;
  std::string judge = "timestamp";
  std::vector<std::string> trees;
};

struct StoreSyncOptions {
  std::string db;
  std::string tree;
  std::string url;
  std::string remote_tree;  // empty: the same name as `tree`
  std::string judge = "timestamp";
  bool push_only = false;
  bool pull_only = false;
  size_t page = 1000;
};

const std::vector<std::string> kJudges = {"timestamp", "version", "local", "remote"};

store::Judge judge_named(const std::string& name) {
  if (name == "version") return store::judges::version();
  if (name == "local") return store::judges::local_wins();
  if (name == "remote") return store::judges::remote_wins();
  return store::judges::timestamp();
}

// Exit 2 for what the user can fix in the command (a bad argument), 1 for the rest (the
// server cannot be reached, the store fails).
int fail(const std::string& db, const Error& error) {
  const std::string& message = error.message();
  print_error(message.starts_with(db) ? message : db + ": " + message);
  return error.kind() == ErrorKind::InvalidArgument ? kExitUsage : kExitFailure;
}

std::string report_json(const store::SyncReport& report) {
  return "{\"sent\":" + std::to_string(report.sent) + ",\"taken\":" + std::to_string(report.taken) +
         ",\"kept\":" + std::to_string(report.kept) +
         ",\"duplicate\":" + std::to_string(report.duplicate) + "}";
}

int run_store_serve(const StoreServeOptions& options) {
  auto db = store::Store::open(options.db);
  if (!db) return fail(options.db, db.error());
  store::SyncServerConfig config;
  config.host = options.host;
  config.port = options.port;
  config.threads = options.threads;
  config.judge = judge_named(options.judge);
  config.trees = options.trees;

  // Before any thread starts (stop_signals.h).
  const sigset_t stop_signals = block_stop_signals();

  auto server = store::SyncServer::create(*db, config);
  if (!server) return fail(options.db, server.error());
  auto port = (*server)->bind();
  if (!port) return fail(options.db, port.error());
  std::printf("listening on http://%s:%d (store %s)\n", options.host.c_str(), *port,
              db->id().c_str());
  std::fflush(stdout);

  run_until_stopped(**server, stop_signals);
  return kExitOk;
}

int run_store_sync(const StoreSyncOptions& options) {
  auto db = store::Store::open(options.db);
  if (!db) return fail(options.db, db.error());
  auto tree = db->tree(options.tree);
  if (!tree) return fail(options.db, tree.error());
  const std::string remote_tree = options.remote_tree.empty() ? options.tree : options.remote_tree;
  const store::Judge judge = judge_named(options.judge);
  store::SyncHttpOptions http;
  http.page = options.page;
  std::string line = "{";
  if (!options.pull_only) {
    auto pushed = store::push_http(*tree, options.url, remote_tree, http);
    if (!pushed) return fail(options.db, pushed.error());
    line += "\"pushed\":" + report_json(*pushed);
  }
  if (!options.push_only) {
    auto pulled = store::pull_http(*tree, options.url, remote_tree, judge, http);
    if (!pulled) return fail(options.db, pulled.error());
    line += std::string(line.size() > 1 ? "," : "") + "\"pulled\":" + report_json(*pulled);
  }
  std::printf("%s}\n", line.c_str());
  return kExitOk;
}

}  // namespace

int run_store_remote(int argc, char** argv) {
  CLI::App app("Store sync over HTTP (docs/store.md, \"Sync\")", "wasm-sandbox store");
  app.require_subcommand(1);

  StoreServeOptions serve;
  auto* serve_cmd = app.add_subcommand(
      "serve", "Serve a store's trees for sync over HTTP until SIGINT or SIGTERM");
  serve_cmd->add_option("db", serve.db, "the store's directory (created if missing)")->required();
  serve_cmd->add_option("--port", serve.port, "TCP port (default 0: any free port, printed)")
      ->check(CLI::Range(0, 65535));
  serve_cmd->add_option("--host", serve.host, "address to listen on (default 127.0.0.1)");
  serve_cmd->add_option("--threads", serve.threads, "connections served at once (default 8)")
      ->check(CLI::Range(1, 1024));
  serve_cmd
      ->add_option("--judge", serve.judge,
                   "how pushed changes are settled: timestamp (default), version, local, remote")
      ->check(CLI::IsMember(kJudges));
  serve_cmd->add_option("--tree", serve.trees, "serve only this tree (repeatable; default: all)");

  StoreSyncOptions sync;
  auto* sync_cmd = app.add_subcommand(
      "sync", "Push a tree's changes to a store server and pull its changes back");
  sync_cmd->add_option("db", sync.db, "the store's directory (created if missing)")->required();
  sync_cmd->add_option("tree", sync.tree, "the local tree")->required();
  sync_cmd->add_option("url", sync.url, "the server: http://HOST:PORT")->required();
  sync_cmd->add_option("--remote-tree", sync.remote_tree,
                       "the tree on the server (default: the same name)");
  sync_cmd
      ->add_option("--judge", sync.judge,
                   "how pulled changes are settled: timestamp (default), version, local, remote")
      ->check(CLI::IsMember(kJudges));
  auto* push_only = sync_cmd->add_flag("--push-only", sync.push_only, "only send our changes");
  sync_cmd->add_flag("--pull-only", sync.pull_only, "only fetch the server's changes")
      ->excludes(push_only);
  sync_cmd->add_option("--page", sync.page, "changes per request (default 1000)")
      ->check(CLI::Range(size_t{1}, size_t{100'000}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (*serve_cmd) return run_store_serve(serve);
  return run_store_sync(sync);
}

}  // namespace wasm_sandbox::cli
