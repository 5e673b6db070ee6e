// One client connection to a SyncServer's tree (store_http.h): URL parsing, requests, and
// replies checked and parsed as JSON, with errors that name the URL and the remote tree.
// Internal to src/store/http.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "wasm_sandbox/result.h"
#include "wasm_sandbox/store_http.h"

namespace httplib {
class Client;
}

namespace wasm_sandbox::store::http {

// What a non-2xx reply means to the caller: the server's kind, e.g. "gap" for 409.
struct HttpFailure {
  int status = 0;
  std::string kind;
};

// Not thread-safe: one per sync call.
class Remote {
 public:
  // InvalidArgument for a URL that is not http(s)://HOST[:PORT][/PREFIX] or a bad tree name.
  static Result<Remote> open(std::string_view url, std::string_view tree,
                             const SyncHttpOptions& options);
  Remote(Remote&&) noexcept;
  ~Remote();

  // GET/POST `path` (under the URL's prefix) and the reply's JSON object. A 4xx/5xx is an
  // error of the server's kind (InvalidArgument for 400, NotFound for 404, LimitExceeded for
  // 413 and 507, Io otherwise) with the server's message; `failure`, if given, gets its status
  // and kind. A connection failure, an oversized reply or one that is not a JSON object is Io.
  Result<nlohmann::json> get(const std::string& path, HttpFailure* failure = nullptr);
  Result<nlohmann::json> post(const std::string& path, const std::string& body,
                              HttpFailure* failure = nullptr);

  // An Io error "URL: tree `T`: WHAT" for a reply that breaks the protocol.
  Error malformed(const std::string& what) const;
  // "URL: tree `T`" for messages.
  const std::string& where() const { return where_; }
  // "/v1/trees/T" (the remote tree's routes).
  std::string tree_path() const { return "/v1/trees/" + tree_; }

 private:
  Remote() = default;
  Result<nlohmann::json> finish(const std::string& what, int status, const std::string& body,
                                HttpFailure* failure) const;

  std::unique_ptr<httplib::Client> client_;
  std::string prefix_;  // path prefix from the URL, without a trailing '/'
  std::string tree_;
  std::string where_;
  size_t max_reply_bytes_ = 0;
};

// `text` with every byte but [A-Za-z0-9-._~] as %XX, for a query parameter.
std::string url_encode(std::string_view text);

}  // namespace wasm_sandbox::store::http
