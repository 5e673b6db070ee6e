// Remote (remote.h): cpp-httplib's client with timeouts, a cap on reply sizes, and errors as
// values.
#include "store/http/remote.h"

#include <httplib.h>

#include "store/json_text.h"
#include "store/names.h"

namespace wasm_sandbox::store::http {
namespace {

using json = nlohmann::json;

ErrorKind kind_of_status(int status) {
  switch (status) {
    case 400:
      return ErrorKind::InvalidArgument;
    case 404:
      return ErrorKind::NotFound;
    case 413:
    case 507:
      return ErrorKind::LimitExceeded;
    default:
      return ErrorKind::Io;
  }
}

}  // namespace

std::string url_encode(std::string_view text) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (std::isalnum(b) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out += '%';
      out += kDigits[b >> 4];
      out += kDigits[b & 15];
    }
  }
  return out;
}

Remote::Remote(Remote&&) noexcept = default;
Remote::~Remote() = default;

Result<Remote> Remote::open(std::string_view url, std::string_view tree,
                            const SyncHttpOptions& options) {
  Remote remote;
  remote.tree_ = tree;
  remote.where_ = std::string(url) + ": tree `" + std::string(tree) + "`";
  if (auto bad = names::check_tree_name(tree)) {
    return std::move(*bad).with_context(std::string(url));
  }
  const size_t scheme_end = url.find("://");
  const std::string_view scheme = url.substr(0, scheme_end == url.npos ? 0 : scheme_end);
  if (scheme != "http" && scheme != "https") {
    return Error(ErrorKind::InvalidArgument,
                 remote.where_ + ": not a URL of the form http://HOST[:PORT][/PREFIX]");
  }
  const size_t path_start = url.find('/', scheme_end + 3);
  const std::string_view origin = url.substr(0, path_start);
  if (origin.size() == scheme_end + 3) {
    return Error(ErrorKind::InvalidArgument, remote.where_ + ": the URL names no host");
  }
  if (path_start != url.npos) {
    std::string_view prefix = url.substr(path_start);
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    remote.prefix_ = prefix;
  }
  remote.client_ = std::make_unique<httplib::Client>(std::string(origin));
  if (!remote.client_->is_valid()) {
    return Error(ErrorKind::InvalidArgument, remote.where_ + ": cannot make a client for it");
  }
  remote.client_->set_connection_timeout(options.connect_timeout);
  remote.client_->set_read_timeout(options.io_timeout);
  remote.client_->set_write_timeout(options.io_timeout);
  remote.client_->set_keep_alive(true);
  remote.client_->set_tcp_nodelay(true);
  remote.max_reply_bytes_ = options.max_reply_bytes;
  return remote;
}

Error Remote::malformed(const std::string& what) const {
  return Error(ErrorKind::Io, where_ + ": " + what);
}

Result<json> Remote::finish(const std::string& what, int status, const std::string& body,
                            HttpFailure* failure) const {
  if (status < 200 || status > 299) {
    // The server's one-line message, else the start of whatever it sent.
    std::string message;
    std::string kind;
    json reply = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (reply.is_object() && reply.contains("error") && reply["error"].is_string()) {
      message = reply["error"].get<std::string>();
      if (reply.contains("kind") && reply["kind"].is_string()) kind = reply["kind"];
    } else {
      message = names::quote(body.substr(0, 64));
    }
    if (failure) *failure = {status, kind};
    return Error(kind_of_status(status),
                 where_ + ": " + what + ": HTTP " + std::to_string(status) + ": " + message);
  }
  auto reply = json_text::parse(body);
  if (!reply.ok()) return malformed(what + ": reply is not JSON: " + reply.error().message());
  if (!reply->is_object()) return malformed(what + ": reply is not a JSON object");
  return std::move(*reply);
}

Result<json> Remote::get(const std::string& path, HttpFailure* failure) {
  const std::string what = "GET " + path;
  std::string body;
  bool too_large = false;
  auto res = client_->Get(prefix_ + path, httplib::Headers{}, [&](const char* data, size_t size) {
    if (body.size() + size > max_reply_bytes_) {
      too_large = true;
      return false;
    }
    body.append(data, size);
    return true;
  });
  if (too_large) {
    return malformed(what + ": reply larger than " + std::to_string(max_reply_bytes_) + " bytes");
  }
  if (!res) return malformed(what + ": request failed (" + httplib::to_string(res.error()) + ")");
  return finish(what, res->status, body, failure);
}

Result<json> Remote::post(const std::string& path, const std::string& body, HttpFailure* failure) {
  const std::string what = "POST " + path;
  auto res = client_->Post(prefix_ + path, body, "application/json");
  if (!res) return malformed(what + ": request failed (" + httplib::to_string(res.error()) + ")");
  if (res->body.size() > max_reply_bytes_) {
    return malformed(what + ": reply larger than " + std::to_string(max_reply_bytes_) + " bytes");
  }
  return finish(what, res->status, res->body, failure);
}

}  // namespace wasm_sandbox::store::http
