// The crash test's workload and checker (crash_model.h).
#include "store/crash_model.h"

#include <algorithm>
#include <set>

namespace wasm_sandbox::store::crash {
namespace {

std::string doc_id(uint64_t batch, size_t i) {
  return "b" + std::to_string(batch) + "-" + std::to_string(i);
}

// The batch an id "b<k>-<i>" belongs to, or 0 for any other id.
uint64_t batch_of(const std::string& id) {
  if (id.size() < 4 || id[0] != 'b') return 0;
  size_t dash = id.find('-');
  if (dash == std::string::npos || dash == 1) return 0;
  uint64_t k = 0;
  for (size_t p = 1; p < dash; ++p) {
    if (id[p] < '0' || id[p] > '9') return 0;
    k = k * 10 + uint64_t(id[p] - '0');
  }
  return k;
}

std::string describe(const Model& model, const std::string& id) {
  auto found = model.find(id);
  if (found == model.end()) return "absent";
  if (found->second.tossed) return "tossed (v" + std::to_string(found->second.version) + ")";
  return found->second.payload.dump() + " v" + std::to_string(found->second.version);
}

}  // namespace

uint64_t rewritten_batch(uint64_t k) { return 1 + (k * 2654435761u) % (k - 1); }

std::vector<Op> batch_ops(uint64_t k, size_t n) {
  std::vector<Op> ops;
  for (size_t i = 0; i < n; ++i) {
    ops.push_back({false, doc_id(k, i), {{"batch", k}, {"i", i}}});
  }
  if (k >= 2) {
    uint64_t j = rewritten_batch(k);
    for (size_t i = 0; i < n; ++i) {
      ops.push_back({false, doc_id(j, i), {{"batch", j}, {"i", i}, {"by", k}}});
    }
  }
  if (k > 4 && k % 4 == 0) {
    for (size_t i = 0; i < n; ++i) ops.push_back({true, doc_id(k - 4, i), {}});
  }
  ops.push_back({false, kTipId, {{"batch", k}}});
  return ops;
}

void apply_ops(const std::vector<Op>& ops, Model& model) {
  for (const Op& op : ops) {
    Doc& doc = model[op.id];
    doc.payload = op.toss ? nlohmann::json() : op.payload;
    doc.tossed = op.toss;
    ++doc.version;
  }
}

Model model_after(uint64_t k, size_t n) {
  Model model;
  for (uint64_t b = 1; b <= k; ++b) apply_ops(batch_ops(b, n), model);
  return model;
}

Result<Model> read_tree(const Store& store, const Tree& tree) {
  const std::string where = store.path().string() + ": tree `" + tree.name() + "`";
  Model model;
  Status scanned = tree.scan({}, [&](Nut& nut) {
    model[nut.id] = Doc{std::move(nut.payload), nut.version};
    return true;
  });
  if (!scanned.ok()) return Error(ErrorKind::Io, where + ": scan: " + scanned.error().message());
  auto count = tree.count();
  if (!count.ok()) return Error(ErrorKind::Io, where + ": count: " + count.error().message());
  if (*count != model.size()) {
    return Error(ErrorKind::Io, where + ": count() says " + std::to_string(*count) +
                                    ", a scan visits " + std::to_string(model.size()));
  }
  size_t nth = 0;
  for (const auto& [id, doc] : model) {
    if (nth++ % 10 != 0) continue;
    auto nut = tree.crack(id);
    if (!nut.ok()) return Error(ErrorKind::Io, where + ": crack: " + nut.error().message());
    if (nut->payload != doc.payload || nut->version != doc.version) {
      return Error(ErrorKind::Io, where + ", id `" + id + "`: crack and scan disagree");
    }
  }
  // The change feed holds every id the tree has seen, once, at its latest write: its live
  // entries must be the scan's nuts, the rest are the tombstones.
  auto feed = tree.changes(0);
  if (!feed.ok()) return Error(ErrorKind::Io, where + ": changes: " + feed.error().message());
  uint64_t seq = 0;
  size_t live_in_feed = 0;
  for (const Change& change : *feed) {
    const std::string in_feed = where + ", id `" + change.nut.id + "` in the change feed";
    if (change.seq <= seq) return Error(ErrorKind::Io, in_feed + ": sequence out of order");
    seq = change.seq;
    auto nut = model.find(change.nut.id);
    if (change.deleted) {
      if (nut != model.end()) {
        return Error(ErrorKind::Io, in_feed + ": a tombstone, but the nut is there");
      }
      model[change.nut.id] = Doc{nlohmann::json(), change.nut.version, true};
      continue;
    }
    if (nut == model.end() || nut->second.tossed || nut->second.version != change.nut.version ||
        nut->second.payload != change.nut.payload) {
      return Error(ErrorKind::Io, in_feed + ": not the nut a scan sees");
    }
    ++live_in_feed;
  }
  if (live_in_feed != *count) {
    return Error(ErrorKind::Io, where + ": " + std::to_string(*count) + " nuts, " +
                                    std::to_string(live_in_feed) + " of them in the change feed");
  }
  auto last_seq = tree.last_seq();
  if (!last_seq.ok() || *last_seq != seq) {
    return Error(ErrorKind::Io, where + ": last_seq() is not the feed's last sequence number");
  }
  return model;
}

Result<uint64_t> tip_of(const Model& actual) {
  auto tip = actual.find(kTipId);
  if (tip == actual.end() || tip->second.tossed) return uint64_t{0};
  const auto& batch = tip->second.payload.find("batch");
  if (batch == tip->second.payload.end() || !batch->is_number_unsigned()) {
    return Error(ErrorKind::Io, std::string("malformed tip: ") + tip->second.payload.dump());
  }
  return batch->get<uint64_t>();
}

Result<uint64_t> verify(const Model& actual, size_t n, uint64_t reported, uint64_t previous) {
  auto tip = tip_of(actual);
  if (!tip.ok()) return std::move(tip).error();
  const uint64_t k = *tip;
  if (k < reported) {
    return Error(ErrorKind::Io, "lost commits: batch " + std::to_string(reported) +
                                    " was reported committed, the store holds batches up to " +
                                    std::to_string(k));
  }
  if (k < previous) {
    return Error(ErrorKind::Io, "lost commits: an earlier check saw batch " +
                                    std::to_string(previous) + ", the store holds batches up to " +
                                    std::to_string(k));
  }
  if (k > reported + 1) {
    return Error(ErrorKind::Io, "the store holds batch " + std::to_string(k) +
                                    ", but the writer only reported up to " +
                                    std::to_string(reported) + " (one may be in flight)");
  }
  const Model expected = model_after(k, n);
  // Every id either model holds, in order; the first difference says which batch is partial.
  std::set<std::string> ids;
  for (const auto& entry : expected) ids.insert(entry.first);
  for (const auto& entry : actual) ids.insert(entry.first);
  for (const std::string& id : ids) {
    auto want = expected.find(id);
    auto got = actual.find(id);
    if (want != expected.end() && got != actual.end() && want->second == got->second) continue;
    std::string what = "store at batch " + std::to_string(k) + ", id `" + id + "`: expected " +
                       describe(expected, id) + ", found " + describe(actual, id);
    const uint64_t batch = batch_of(id);
    if (batch > k) {
      what += ": batch " + std::to_string(batch) + " is partly visible without its tip";
    } else {
      what += ": a batch up to " + std::to_string(k) + " is partly visible or lost";
    }
    return Error(ErrorKind::Io, what);
  }
  return k;
}

}  // namespace wasm_sandbox::store::crash
