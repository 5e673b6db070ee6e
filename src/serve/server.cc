// Server (server.h): cpp-httplib's server with a thread pool and keep-alive, routes to the
// modules' instance pools, and errors as JSON.
#include "serve/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <system_error>
#include <thread>

#include "serve/json_values.h"
#include "wasm_sandbox/metrics.h"

namespace wasm_sandbox::serve {
namespace {

constexpr const char* kJson = "application/json";

// Connections waiting to be accepted. httplib 0.11 listens with a backlog of 5: 64 clients
// connecting at once overflow it, and the dropped SYNs are retried a second later.
constexpr int kListenBacklog = 1024;

}  // namespace

// httplib::Server, with the listening socket's backlog raised after binding (Linux applies a
// second listen() on a listening socket as a new backlog).
class HttpServer : public httplib::Server {
 public:
  void raise_backlog() { ::listen(svr_sock_, kListenBacklog); }
};

namespace {

void reply_error(httplib::Response& res, int status, std::string_view message,
                 std::string_view kind) {
  res.status = status;
  res.set_content(error_json(message, kind), kJson);
}

// The HTTP status and JSON kind of a failed call.
std::pair<int, std::string> status_of(const Error& error) {
  switch (error.kind()) {
    case ErrorKind::Trap:
      return {error.trap() == TrapKind::Timeout ? 504 : 422,
              std::string(trap_kind_label(error.trap()))};
    case ErrorKind::LimitExceeded:
      return {503, "overloaded"};
    case ErrorKind::InvalidArgument:
      return {400, "bad_request"};
    case ErrorKind::NotFound:
      return {404, "not_found"};
    default:
      return {500, "internal"};
  }
}

// Modules directly in `dir`, by name (the file's stem), sorted.
Result<std::vector<std::filesystem::path>> module_files(const std::filesystem::path& dir) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto ext = entry.path().extension();
    if ((ext == ".wasm" || ext == ".wat") && entry.is_regular_file(ec)) {
      files.push_back(entry.path());
    }
  }
  if (ec) {
    return Error(ec == std::errc::no_such_file_or_directory ? ErrorKind::NotFound : ErrorKind::Io,
                 dir.string() + ": cannot list the modules directory: " + ec.message());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

Server::Server(const ServeConfig& config)
    : config_(config), engine_(config.engine), http_(std::make_unique<HttpServer>()) {}

Server::~Server() { stop(); }

Result<std::unique_ptr<Server>> Server::create(const ServeConfig& config,
                                               std::vector<Error>* skipped) {
  auto files = module_files(config.modules_dir);
  if (!files) return std::move(files).error();
  std::unique_ptr<Server> server(new Server(config));
  for (const auto& file : *files) {
    const std::string name = file.stem().string();
    if (server->modules_.count(name)) {
      if (skipped) {
        skipped->emplace_back(
            ErrorKind::InvalidArgument,
            file.string() + ": another file already serves module `" + name + "`; skipped");
      }
      continue;
    }
    auto module = server->engine_.load_file(file);
    if (!module) {
      if (skipped) skipped->push_back(std::move(module).error());
      continue;
    }
    auto pool =
        std::make_unique<InstancePool>(std::move(*module), config.engine.limits, config.threads);
    // One instance now: a module that cannot run without imports fails here, not per request.
    auto first = pool->take();
    if (!first) {
      if (skipped) skipped->push_back(std::move(first).error());
      continue;
    }
    pool->give_back(std::move(*first));
    server->modules_.emplace(name, std::move(pool));
  }
  if (server->modules_.empty()) {
    return Error(ErrorKind::InvalidModule,
                 config.modules_dir.string() + ": no module (*.wasm, *.wat) could be loaded");
  }
  server->install_routes();
  return server;
}

void Server::install_routes() {
  httplib::Server& http = *http_;
  const size_t threads = std::max<size_t>(1, config_.threads);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_tcp_nodelay(true);
  http.set_keep_alive_max_count(1'000'000);
  http.set_keep_alive_timeout(5);
  http.set_payload_max_length(config_.max_body_bytes);

  http.Post(R"(/call/([^/]+)/([^/]+))", [this](const httplib::Request& req,
                                               httplib::Response& res) {
    const std::string& module_name = req.matches[1];
    const std::string& function = req.matches[2];
    auto it = modules_.find(module_name);
    if (it == modules_.end()) {
      return reply_error(res, 404, "no module named `" + module_name + "`", "not_found");
    }
    InstancePool& pool = *it->second;
    const FuncType* type = pool.function_type(function);
    if (!type) {
      return reply_error(res, 404,
                         "module `" + module_name + "` exports no function `" + function + "`",
                         "not_found");
    }
    auto args = parse_arguments(req.body, *type);
    if (!args) {
      return reply_error(res, 400, module_name + ": `" + function + "`: " + args.error().message(),
                         "bad_request");
    }
    auto instance = pool.take();
    if (!instance) {
      const auto [status, kind] = status_of(instance.error());
      return reply_error(res, status, instance.error().message(), kind);
    }
    auto results = instance->functions.find(function)->second.call(*args);
    if (!results) {
      // The instance is dropped: a trap may have left its memory midway through an update.
      const auto [status, kind] = status_of(results.error());
      return reply_error(res, status, results.error().message(), kind);
    }
    pool.give_back(std::move(*instance));
    res.set_content(results_json(*results), kJson);
  });

  http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"ok\",\"modules\":" + std::to_string(modules_.size()) + "}",
                    kJson);
  });

  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_text(), "text/plain; version=0.0.4");
  });

  // Routes not found, wrong methods, bodies too large: the status httplib chose, as JSON.
  http.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string what = req.method + " " + req.path;
    switch (res.status) {
      case 404:
        return reply_error(
            res, 404,
            "no route for " + what + " (POST /call/{module}/{function}, GET /metrics, GET /health)",
            "not_found");
      case 413:
        return reply_error(
            res, 413,
            what + ": body larger than " + std::to_string(config_.max_body_bytes) + " bytes",
            "too_large");
      default:
        return reply_error(res, res.status, what + ": HTTP status " + std::to_string(res.status),
                           res.status < 500 ? "bad_request" : "internal");
    }
  });

  // Counted before the response is written (the logger runs after): a client that has its
  // response sees it in /metrics.
  http.set_post_routing_handler([this](const httplib::Request&, httplib::Response& res) {
    if (res.status >= 100 && res.status < 600) {
      responses_[static_cast<size_t>(res.status - 100)].fetch_add(1, std::memory_order_relaxed);
    }
  });
}

std::string Server::metrics_text() const {
  std::string out = to_prometheus(engine_.metrics());
  out += "# HELP wasm_sandbox_http_responses_total HTTP responses sent, by status code\n";
  out += "# TYPE wasm_sandbox_http_responses_total counter\n";
  for (size_t i = 0; i < responses_.size(); ++i) {
    const uint64_t n = responses_[i].load(std::memory_order_relaxed);
    if (n == 0) continue;
    out += "wasm_sandbox_http_responses_total{code=\"" + std::to_string(i + 100) + "\"} " +
           std::to_string(n) + "\n";
  }
  return out;
}

Result<int> Server::bind() {
  const int port = config_.port == 0
                       ? http_->bind_to_any_port(config_.host)
                       : (http_->bind_to_port(config_.host, config_.port) ? config_.port : -1);
  if (port < 0) {
    return Error(ErrorKind::Io, config_.host + ":" + std::to_string(config_.port) +
                                    ": cannot listen (address in use or not available)");
  }
  http_->raise_backlog();
  return port;
}

void Server::run() {
  run_entered_ = true;
  if (!stop_requested_) http_->listen_after_bind();
  run_returned_ = true;
}

void Server::stop() {
  stop_requested_ = true;
  // httplib's stop() works only once the server runs: wait for run() to get that far.
  while (run_entered_ && !run_returned_) {
    if (http_->is_running()) {
      http_->stop();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace wasm_sandbox::serve
