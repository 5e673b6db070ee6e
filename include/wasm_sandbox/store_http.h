// Store sync between processes over HTTP (docs/store.md, "Sync"): a server that exposes one
// Store's change feeds, and client functions that push to it and pull from it.
//
//   GET  /v1/store                                {"store": id, "max_body_bytes": N, "max_page": N}
//   GET  /v1/trees/{tree}/changes?since=N&limit=M {"store", "tree", "last_seq", "changes": [...]}
//   GET  /v1/trees/{tree}/checkpoint?peer=P       {"tree", "peer", "seq"}
//   POST /v1/trees/{tree}/changes                 body {"peer", "since", "last_seq", "changes"}
//                                                 -> {"taken", "kept", "duplicate", "checkpoint"}
//
// A change travels as {"id", "version", "timestamp", "expiry", "deleted", "seq", "payload"};
// an id that is not UTF-8 as "id_hex", a payload JSON text cannot hold as "payload_msgpack_hex".
// A POST is applied with squabble() under the server's judge in one write transaction together
// with the sender's checkpoint, so a retried or replayed POST changes nothing, and a failing one
// leaves nothing behind. Errors are 4xx/5xx with one line of JSON: {"error": "...", "kind": "..."}.
//
// Library target ws_store_http (cpp-httplib); it depends on ws_store only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "wasm_sandbox/result.h"
#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store {

struct SyncServerConfig {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port (SyncServer::port() says which)
  // Connections served at once; each keep-alive connection holds a thread while it is open.
  size_t threads = 8;
  // The largest POST body; larger ones get 413 and change nothing. Clients split their pages to
  // fit (GET /v1/store tells them the limit), but one change must fit on its own.
  size_t max_body_bytes = size_t{64} << 20;
  // The most changes one GET of changes returns (a larger `limit` is cut to it).
  size_t max_page = 10'000;
  // A GET page stops growing once its body passes this many bytes (it holds one change at least).
  size_t max_reply_bytes = size_t{8} << 20;
  // How POSTed changes are settled against the local state (squabble()). Use the judge the
  // peers use: only a total order (judges::timestamp, judges::version) converges.
  Judge judge = judges::timestamp();
  // The trees served, by name; empty: every tree (a tree named in a request is created).
  std::vector<std::string> trees;
};

// Serves one Store's feeds over HTTP. Thread-safe: run() on one thread (or start()), stop()
// from any (not from a signal handler). The store stays open as long as the server lives.
class SyncServer {
 public:
  // InvalidArgument for a config that cannot work (a tree name that is not valid, a limit of 0).
  static Result<std::unique_ptr<SyncServer>> create(Store store, SyncServerConfig config);
  ~SyncServer();  // stop()s
  SyncServer(const SyncServer&) = delete;
  SyncServer& operator=(const SyncServer&) = delete;

  // Binds the listening socket and returns its port; Io naming the address if it cannot.
  Result<int> bind();
  // Serves until stop(). Requires bind().
  void run();
  // bind(), then run() on a thread of the server's own; returns the port.
  Result<int> start();
  // Stops accepting, lets requests in progress finish, and makes run() return (and joins the
  // thread of start()). Idempotent.
  void stop();

  int port() const { return port_; }  // after bind(); 0 before
  const Store& store() const { return store_; }

 private:
  class Impl;
  SyncServer(Store store, SyncServerConfig config);
  Store store_;
  int port_ = 0;
  std::unique_ptr<Impl> impl_;
};

struct SyncHttpOptions {
  size_t page = 1000;  // changes per request (the server may cut GET pages shorter)
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds io_timeout{60'000};  // per read or write on the socket
  size_t max_reply_bytes = size_t{256} << 20;    // a larger reply is an error
};

// What sync_http() did, per direction.
struct HttpSyncReport {
  SyncReport pushed;  // taken/kept/duplicate: what the server did with our changes
  SyncReport pulled;  // what we did with the server's
};

// `url` is http://HOST[:PORT][/PREFIX] (https:// too); `remote_tree` the tree's name there.
// Errors (nothing of a failed page is applied; pages before it are, with their checkpoints):
// Io for a connection that fails or a reply that is not what the protocol says, the server's
// error kind for a 4xx/5xx, InvalidArgument for a bad URL or tree name; each message names the
// URL and the remote tree. Blocking; safe to call from several threads (each call has its own
// connection), though two calls on the same pair of trees at once do the same work twice.

// Applies the remote tree's changes since this store's checkpoint for it (peer name: the remote
// store's id and `remote_tree`, as pull() names it) to `local`, one page per local write
// transaction together with the new checkpoint; settled by `judge`.
Result<SyncReport> pull_http(const Tree& local, std::string_view url, std::string_view remote_tree,
                             const Judge& judge, const SyncHttpOptions& options = {});
// Sends `local`'s changes since the server's checkpoint for it (peer name: this store's id and
// `local`'s name), in pages; the server settles them with its own judge.
Result<SyncReport> push_http(const Tree& local, std::string_view url, std::string_view remote_tree,
                             const SyncHttpOptions& options = {});
// push_http(), then pull_http(). With the same total-order judge on both sides and no writes
// meanwhile, both trees then hold the same nuts and tombstones.
Result<HttpSyncReport> sync_http(const Tree& local, std::string_view url,
                                 std::string_view remote_tree, const Judge& judge,
                                 const SyncHttpOptions& options = {});

}  // namespace wasm_sandbox::store
