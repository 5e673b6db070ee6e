// pull_http, push_http, sync_http (store_http.h): the client side of the sync protocol.
//
// Both directions move a feed in pages and keep a checkpoint on the receiving side, written in
// the same transaction as the page: pulling, in this store; pushing, in the server's (it
// applies each POST with the checkpoint in one transaction). An interrupted sync resumes after
// the last page that committed, and a page applied twice changes nothing.
#include <algorithm>

#include "store/http/remote.h"
#include "store/http/wire.h"
#include "store/store_state.h"
#include "wasm_sandbox/store_http.h"

namespace wasm_sandbox::store {
namespace {

using detail::Access;
using json = nlohmann::json;

// A POST body's own fields, beside its changes.
constexpr size_t kBodyOverhead = 1024;
// 409s in a row before push_http gives up: each means the server's checkpoint for us moved
// while we sent (another sync of the same trees at once) or went back.
constexpr int kMaxGaps = 3;

// The remote store's id and body limit (GET /v1/store).
struct RemoteStore {
  std::string id;
  uint64_t max_body_bytes = 0;
};

Result<RemoteStore> remote_store(http::Remote& remote) {
  auto reply = remote.get("/v1/store");
  if (!reply.ok()) return std::move(reply).error();
  auto id = wire::get_string(*reply, "store", "GET /v1/store");
  if (!id.ok()) return remote.malformed(id.error().message());
  if (id->empty() || id->size() > 64 || !wire::valid_utf8(*id)) {
    return remote.malformed("GET /v1/store: field `store` is not a store id");
  }
  auto max_body = wire::get_uint(*reply, "max_body_bytes", "GET /v1/store");
  if (!max_body.ok()) return remote.malformed(max_body.error().message());
  return RemoteStore{std::move(*id), *max_body};
}

// One page of the remote feed, checked: from the store we started with, in feed order, after
// `since`.
struct Page {
  std::vector<Change> changes;
  uint64_t last_seq = 0;  // the remote tree's last seq when the page was read
};

Result<Page> fetch_page(http::Remote& remote, const std::string& store_id, uint64_t since,
                        size_t limit) {
  const std::string path = remote.tree_path() + "/changes?since=" + std::to_string(since) +
                           "&limit=" + std::to_string(limit);
  auto reply = remote.get(path);
  if (!reply.ok()) return std::move(reply).error();
  const std::string what = "GET " + path;
  auto store = wire::get_string(*reply, "store", what);
  if (!store.ok()) return remote.malformed(store.error().message());
  if (*store != store_id) {
    return remote.malformed(what + ": the server now serves store " + *store + ", not " + store_id);
  }
  Page page;
  auto last = wire::get_uint(*reply, "last_seq", what);
  if (!last.ok()) return remote.malformed(last.error().message());
  page.last_seq = *last;
  auto items = reply->find("changes");
  if (items == reply->end() || !items->is_array()) {
    return remote.malformed(what + ": field `changes` is missing or not an array");
  }
  page.changes.reserve(items->size());
  uint64_t previous = since;
  for (json& item : *items) {
    auto change = wire::parse_change(std::move(item),
                                     what + ": change " + std::to_string(page.changes.size()));
    if (!change.ok()) return remote.malformed(change.error().message());
    if (change->seq <= previous || change->seq > page.last_seq) {
      return remote.malformed(what + ": change " + std::to_string(page.changes.size()) +
                              " has seq " + std::to_string(change->seq) + ", out of feed order");
    }
    previous = change->seq;
    page.changes.push_back(std::move(*change));
  }
  return page;
}

void count(Outcome outcome, SyncReport* report) {
  if (outcome == Outcome::Taken) ++report->taken;
  if (outcome == Outcome::Kept) ++report->kept;
  if (outcome == Outcome::Duplicate) ++report->duplicate;
}

}  // namespace

Result<SyncReport> pull_http(const Tree& local, std::string_view url, std::string_view remote_tree,
                             const Judge& judge, const SyncHttpOptions& options) {
  auto remote = http::Remote::open(url, remote_tree, options);
  if (!remote.ok()) return std::move(remote).error();
  auto store = remote_store(*remote);
  if (!store.ok()) return std::move(store).error();
  const std::string peer = store->id + ":" + std::string(remote_tree);
  detail::StoreState& state = *Access::state(local);
  const size_t limit = std::max<size_t>(1, options.page);
  SyncReport report;
  for (;;) {
    auto since =
        detail::with_read(state, [&](const ReadTxn& txn) { return txn.checkpoint(local, peer); });
    if (!since.ok()) return std::move(since).error();
    auto page = fetch_page(*remote, store->id, *since, limit);
    if (!page.ok()) return std::move(page).error();
    if (page->changes.empty()) return report;
    report.sent += page->changes.size();
    Status applied = detail::with_write(state, [&](WriteTxn& txn) -> Status {
      for (const Change& change : page->changes) {
        auto outcome = txn.squabble(local, change, judge);
        if (!outcome.ok()) return std::move(outcome).error();
        count(*outcome, &report);
      }
      return txn.set_checkpoint(local, peer, page->changes.back().seq);
    });
    if (!applied.ok()) return std::move(applied).error().with_context(remote->where());
    if (page->changes.back().seq >= page->last_seq) return report;
  }
}

Result<SyncReport> push_http(const Tree& local, std::string_view url, std::string_view remote_tree,
                             const SyncHttpOptions& options) {
  auto remote = http::Remote::open(url, remote_tree, options);
  if (!remote.ok()) return std::move(remote).error();
  auto store = remote_store(*remote);
  if (!store.ok()) return std::move(store).error();
  const std::string peer = Access::state(local)->id + ":" + local.name();
  const std::string changes_path = remote->tree_path() + "/changes";
  const std::string checkpoint_path =
      remote->tree_path() + "/checkpoint?peer=" + http::url_encode(peer);
  const size_t budget = store->max_body_bytes > 2 * kBodyOverhead
                            ? static_cast<size_t>(store->max_body_bytes) - kBodyOverhead
                            : kBodyOverhead;
  const size_t limit = std::max<size_t>(1, options.page);

  auto server_checkpoint = [&]() -> Result<uint64_t> {
    auto reply = remote->get(checkpoint_path);
    if (!reply.ok()) return std::move(reply).error();
    auto seq = wire::get_uint(*reply, "seq", "GET " + checkpoint_path);
    if (!seq.ok()) return remote->malformed(seq.error().message());
    return *seq;
  };
  auto since = server_checkpoint();
  if (!since.ok()) return since.error();

  SyncReport report;
  int gaps = 0;
  std::string items;
  for (;;) {
    auto changes = local.changes(*since, limit);
    if (!changes.ok()) return std::move(changes).error();
    if (changes->empty()) return report;
    // The page goes in as many POSTs as the server's body limit needs (one change each at
    // worst: a change larger than the limit is refused with 413).
    size_t next = 0;
    bool restart = false;
    while (next < changes->size()) {
      const size_t first = next;
      items.clear();
      for (std::string one; next < changes->size(); ++next) {
        one.clear();
        wire::append_change((*changes)[next], &one);
        if (next > first && items.size() + one.size() + 1 > budget) break;
        if (next > first) items += ',';
        items += one;
      }
      const uint64_t last = (*changes)[next - 1].seq;
      const std::string body =
          "{\"peer\":" + wire::quoted(peer) + ",\"since\":" + std::to_string(*since) +
          ",\"last_seq\":" + std::to_string(last) + ",\"changes\":[" + items + "]}";
      http::HttpFailure failure;
      auto reply = remote->post(changes_path, body, &failure);
      if (!reply.ok()) {
        if (failure.status != 409 || ++gaps > kMaxGaps) return std::move(reply).error();
        // The server's checkpoint for us is not where we started: ask again, resend from it.
        since = server_checkpoint();
        if (!since.ok()) return since.error();
        restart = true;
        break;
      }
      gaps = 0;
      SyncReport got;
      const std::string what = "POST " + changes_path;
      for (auto [key, field] : {std::pair{"taken", &got.taken}, std::pair{"kept", &got.kept},
                                std::pair{"duplicate", &got.duplicate}}) {
        auto n = wire::get_uint(*reply, key, what);
        if (!n.ok()) return remote->malformed(n.error().message());
        *field = *n;
      }
      report.sent += next - first;
      report.taken += got.taken;
      report.kept += got.kept;
      report.duplicate += got.duplicate;
      *since = last;
    }
    if (!restart && changes->size() < limit) return report;
  }
}

Result<HttpSyncReport> sync_http(const Tree& local, std::string_view url,
                                 std::string_view remote_tree, const Judge& judge,
                                 const SyncHttpOptions& options) {
  HttpSyncReport report;
  auto pushed = push_http(local, url, remote_tree, options);
  if (!pushed.ok()) return std::move(pushed).error();
  report.pushed = *pushed;
  auto pulled = pull_http(local, url, remote_tree, judge, options);
  if (!pulled.ok()) return std::move(pulled).error();
  report.pulled = *pulled;
  return report;
}

}  // namespace wasm_sandbox::store
