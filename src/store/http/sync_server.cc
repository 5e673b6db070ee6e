// SyncServer (store_http.h): cpp-httplib's server over one Store's change feeds. Requests are
// checked whole before anything is written, and a POST is one write transaction, so a bad or
// interrupted request leaves the store as it was.
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <thread>

#include "store/http/wire.h"
#include "store/json_text.h"
#include "store/names.h"
#include "wasm_sandbox/store_http.h"

namespace wasm_sandbox::store {
namespace {

using json = nlohmann::json;

constexpr const char* kJson = "application/json";
// What ReadTxn::checkpoint() accepts.
constexpr size_t kMaxPeerName = 400;

// An error for the client: its HTTP status, the JSON "kind", and a one-line message.
struct Reply {
  int status;
  std::string kind;
  std::string message;
};

Reply reply_of(const Error& error) {
  switch (error.kind()) {
    case ErrorKind::InvalidArgument:
      return {400, "bad_request", error.message()};
    case ErrorKind::NotFound:
      return {404, "not_found", error.message()};
    case ErrorKind::LimitExceeded:
      return {507, "limit", error.message()};
    case ErrorKind::Io:
      return {500, "io", error.message()};
    default:
      return {500, "internal", error.message()};
  }
}

void send(httplib::Response& res, const Reply& reply) {
  res.status = reply.status;
  const std::string message =
      json(reply.message).dump(-1, ' ', false, json::error_handler_t::replace);
  res.set_content("{\"error\":" + message + ",\"kind\":\"" + reply.kind + "\"}\n", kJson);
}

void send(httplib::Response& res, const Error& error) { send(res, reply_of(error)); }

void send_body(httplib::Response& res, std::string body) {
  res.status = 200;
  res.body = std::move(body);
  res.set_header("Content-Type", kJson);
}

// The decimal query parameter `name`, or `fallback` when absent.
Result<uint64_t> uint_param(const httplib::Request& req, const char* name, uint64_t fallback,
                            std::string_view where) {
  if (!req.has_param(name)) return fallback;
  const std::string text = req.get_param_value(name);
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Error(ErrorKind::InvalidArgument, std::string(where) + ": bad `" + name + "` (" +
                                                 names::quote(text) +
                                                 "): give a decimal number from 0 to 2^64-1");
  }
  return value;
}

}  // namespace

// httplib::Server, which closes its listening socket in stop() only once it listens: a server
// bound and stopped before run() would keep it, and connections would wait in its backlog.
class HttpServer : public httplib::Server {
 public:
  void close_unused_socket() {
    const socket_t socket = svr_sock_.exchange(INVALID_SOCKET);
    if (socket != INVALID_SOCKET) ::close(socket);
  }
};

class SyncServer::Impl {
 public:
  Impl(Store store, SyncServerConfig config) : store_(std::move(store)), config_(config) {}

  void install_routes();
  Result<Tree> tree_of(const std::string& name) {
    if (auto bad = names::check_tree_name(name)) return std::move(*bad);
    if (!config_.trees.empty() &&
        std::find(config_.trees.begin(), config_.trees.end(), name) == config_.trees.end()) {
      return Error(ErrorKind::NotFound, "tree `" + name + "` is not served here");
    }
    return store_.tree(name);
  }
  void get_store(httplib::Response& res);
  void get_changes(const httplib::Request& req, httplib::Response& res);
  void get_checkpoint(const httplib::Request& req, httplib::Response& res);
  void post_changes(const httplib::Request& req, httplib::Response& res);

  Store store_;
  const SyncServerConfig config_;
  HttpServer http_;
  std::thread thread_;  // start()'s
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> run_entered_{false};
  std::atomic<bool> run_returned_{false};
};

void SyncServer::Impl::install_routes() {
  const size_t threads = std::max<size_t>(1, config_.threads);
  http_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_.set_tcp_nodelay(true);
  http_.set_keep_alive_timeout(5);
  http_.set_payload_max_length(config_.max_body_bytes);

  http_.Get("/v1/store",
            [this](const httplib::Request&, httplib::Response& res) { get_store(res); });
  http_.Get(R"(/v1/trees/([^/]+)/changes)",
            [this](const httplib::Request& req, httplib::Response& res) { get_changes(req, res); });
  http_.Get(
      R"(/v1/trees/([^/]+)/checkpoint)",
      [this](const httplib::Request& req, httplib::Response& res) { get_checkpoint(req, res); });
  http_.Post(
      R"(/v1/trees/([^/]+)/changes)",
      [this](const httplib::Request& req, httplib::Response& res) { post_changes(req, res); });

  // Routes not found, bodies too large: the status httplib chose, as JSON.
  http_.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string what = req.method + " " + req.path;
    switch (res.status) {
      case 404:
        return send(res, {404, "not_found",
                          "no route for " + what +
                              " (GET /v1/store, GET|POST /v1/trees/{tree}/changes, GET "
                              "/v1/trees/{tree}/checkpoint)"});
      case 413:
        return send(res, {413, "too_large",
                          what + ": body larger than " + std::to_string(config_.max_body_bytes) +
                              " bytes"});
      default:
        return send(res, {res.status, res.status < 500 ? "bad_request" : "internal",
                          what + ": HTTP status " + std::to_string(res.status)});
    }
  });
}

void SyncServer::Impl::get_store(httplib::Response& res) {
  send_body(res, "{\"store\":\"" + store_.id() +
                     "\",\"max_body_bytes\":" + std::to_string(config_.max_body_bytes) +
                     ",\"max_page\":" + std::to_string(config_.max_page) + "}\n");
}

void SyncServer::Impl::get_changes(const httplib::Request& req, httplib::Response& res) {
  auto tree = tree_of(req.matches[1]);
  if (!tree.ok()) return send(res, tree.error());
  const std::string where = "GET changes of tree `" + tree->name() + "`";
  auto since = uint_param(req, "since", 0, where);
  if (!since.ok()) return send(res, since.error());
  auto limit = uint_param(req, "limit", config_.max_page, where);
  if (!limit.ok()) return send(res, limit.error());
  const size_t page = static_cast<size_t>(
      std::min<uint64_t>(*limit == 0 ? config_.max_page : *limit, config_.max_page));

  std::string body;
  Status read_status;
  Status began = store_.read([&](const ReadTxn& txn) {
    auto last = txn.last_seq(*tree);
    if (!last.ok()) {
      read_status = std::move(last).error();
      return;
    }
    body = "{\"store\":\"" + store_.id() + "\",\"tree\":\"" + tree->name() +
           "\",\"last_seq\":" + std::to_string(*last) + ",\"changes\":[";
    bool first = true;
    read_status = txn.changes(*tree, *since, page, [&](const Change& change) {
      if (!first) body += ',';
      first = false;
      wire::append_change(change, &body);
      return body.size() < config_.max_reply_bytes;
    });
    body += "]}\n";
  });
  if (!began.ok()) return send(res, began.error());
  if (!read_status.ok()) return send(res, read_status.error());
  send_body(res, std::move(body));
}

void SyncServer::Impl::get_checkpoint(const httplib::Request& req, httplib::Response& res) {
  auto tree = tree_of(req.matches[1]);
  if (!tree.ok()) return send(res, tree.error());
  const std::string peer = req.get_param_value("peer");
  if (peer.empty() || peer.size() > kMaxPeerName || !wire::valid_utf8(peer)) {
    return send(res,
                Error(ErrorKind::InvalidArgument, "GET checkpoint of tree `" + tree->name() +
                                                      "`: give `peer`, 1 to 400 bytes of UTF-8"));
  }
  Result<uint64_t> seq = uint64_t{0};
  Status began = store_.read([&](const ReadTxn& txn) { seq = txn.checkpoint(*tree, peer); });
  if (!began.ok()) return send(res, began.error());
  if (!seq.ok()) return send(res, seq.error());
  send_body(res, "{\"tree\":\"" + tree->name() + "\",\"peer\":" + wire::quoted(peer) +
                     ",\"seq\":" + std::to_string(*seq) + "}\n");
}

void SyncServer::Impl::post_changes(const httplib::Request& req, httplib::Response& res) {
  auto tree = tree_of(req.matches[1]);
  if (!tree.ok()) return send(res, tree.error());
  const std::string where = "POST changes to tree `" + tree->name() + "`";
  auto invalid = [&](const std::string& what) {
    send(res, Error(ErrorKind::InvalidArgument, where + ": " + what));
  };

  // The whole body is checked before anything is written.
  auto body = json_text::parse(req.body);
  if (!body.ok()) return invalid(body.error().message());
  if (!body->is_object()) return invalid("the body is not a JSON object");
  auto peer = wire::get_string(*body, "peer", where);
  if (!peer.ok()) return send(res, peer.error());
  if (peer->empty() || peer->size() > kMaxPeerName) {
    return invalid("field `peer` must be 1 to 400 bytes");
  }
  auto since = wire::get_uint(*body, "since", where);
  if (!since.ok()) return send(res, since.error());
  auto last_seq = wire::get_uint(*body, "last_seq", where);
  if (!last_seq.ok()) return send(res, last_seq.error());
  auto items = body->find("changes");
  if (items == body->end() || !items->is_array()) {
    return invalid("field `changes` is missing or not an array");
  }
  std::vector<Change> changes;
  changes.reserve(items->size());
  uint64_t previous = *since;
  for (json& item : *items) {
    auto change =
        wire::parse_change(std::move(item), where + ": change " + std::to_string(changes.size()));
    if (!change.ok()) return send(res, change.error());
    // The sender's feed, in order: after `since`, increasing, up to `last_seq`.
    if (change->seq <= previous || change->seq > *last_seq) {
      return invalid("change " + std::to_string(changes.size()) + " has seq " +
                     std::to_string(change->seq) + ": seqs must increase, above `since` (" +
                     std::to_string(*since) + ") and up to `last_seq` (" +
                     std::to_string(*last_seq) + ")");
    }
    previous = change->seq;
    changes.push_back(std::move(*change));
  }
  items->clear();

  // One transaction: the changes and the checkpoint commit together or not at all. A page that
  // starts after the checkpoint would leave a gap (the sender's state is older than it thinks):
  // refused with 409, so that the sender asks for the checkpoint again.
  SyncReport report;
  uint64_t checkpoint = 0;
  std::optional<Reply> gap;
  Status written = store_.write([&](WriteTxn& txn) -> Status {
    auto current = txn.checkpoint(*tree, *peer);
    if (!current.ok()) return std::move(current).error();
    if (*since > *current) {
      gap = Reply{409, "gap",
                  where + ": peer `" + *peer + "` sends changes after seq " +
                      std::to_string(*since) + " but this store has its changes up to seq " +
                      std::to_string(*current) + " only: ask for the checkpoint again"};
      return Error(ErrorKind::InvalidArgument, gap->message);
    }
    for (const Change& change : changes) {
      auto outcome = txn.squabble(*tree, change, config_.judge);
      if (!outcome.ok()) return std::move(outcome).error();
      if (*outcome == Outcome::Taken) ++report.taken;
      if (*outcome == Outcome::Kept) ++report.kept;
      if (*outcome == Outcome::Duplicate) ++report.duplicate;
    }
    // A replayed older page never moves the checkpoint back.
    checkpoint = std::max(*current, *last_seq);
    return txn.set_checkpoint(*tree, *peer, checkpoint);
  });
  if (gap) return send(res, *gap);
  if (!written.ok()) return send(res, written.error());
  send_body(res, "{\"taken\":" + std::to_string(report.taken) +
                     ",\"kept\":" + std::to_string(report.kept) +
                     ",\"duplicate\":" + std::to_string(report.duplicate) +
                     ",\"checkpoint\":" + std::to_string(checkpoint) + "}\n");
}

SyncServer::SyncServer(Store store, SyncServerConfig config)
    : store_(store), impl_(std::make_unique<Impl>(std::move(store), std::move(config))) {}

SyncServer::~SyncServer() { stop(); }

Result<std::unique_ptr<SyncServer>> SyncServer::create(Store store, SyncServerConfig config) {
  for (const std::string& name : config.trees) {
    if (auto bad = names::check_tree_name(name)) return std::move(*bad);
  }
  if (config.max_body_bytes == 0 || config.max_page == 0 || config.max_reply_bytes == 0) {
    return Error(ErrorKind::InvalidArgument,
                 "sync server: max_body_bytes, max_page and max_reply_bytes must not be 0");
  }
  if (!config.judge) return Error(ErrorKind::InvalidArgument, "sync server: no judge");
  std::unique_ptr<SyncServer> server(new SyncServer(std::move(store), std::move(config)));
  server->impl_->install_routes();
  return server;
}

Result<int> SyncServer::bind() {
  const SyncServerConfig& config = impl_->config_;
  const int port = config.port == 0
                       ? impl_->http_.bind_to_any_port(config.host)
                       : (impl_->http_.bind_to_port(config.host, config.port) ? config.port : -1);
  if (port < 0) {
    return Error(ErrorKind::Io, config.host + ":" + std::to_string(config.port) +
                                    ": cannot listen (address in use or not available)");
  }
  port_ = port;
  return port;
}

void SyncServer::run() {
  impl_->run_entered_ = true;
  if (!impl_->stop_requested_) impl_->http_.listen_after_bind();
  impl_->run_returned_ = true;
}

Result<int> SyncServer::start() {
  auto port = bind();
  if (!port.ok()) return port;
  impl_->thread_ = std::thread([this] { run(); });
  return port;
}

void SyncServer::stop() {
  impl_->stop_requested_ = true;
  // httplib's stop() works only once the server runs: wait for run() to get that far.
  while (impl_->run_entered_ && !impl_->run_returned_) {
    if (impl_->http_.is_running()) {
      impl_->http_.stop();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (impl_->thread_.joinable() && impl_->thread_.get_id() != std::this_thread::get_id()) {
    impl_->thread_.join();
  }
  // run() never listened, or has returned: nobody uses the socket any more (run() from now on
  // sees stop_requested_ and returns at once).
  if (!impl_->run_entered_ || impl_->run_returned_) impl_->http_.close_unused_socket();
}

}  // namespace wasm_sandbox::store
