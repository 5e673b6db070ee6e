// The crash test's workload and its checker, shared by the writer (crash_writer.cc) and the
// test (crash_test.cc).
//
// The workload is a pure function of the batch number, so the state a store must hold after
// batches 1..k can be computed without the store. Batch k (k >= 1), committed as one
// transaction:
//   - stashes "b<k>-<i>" for i < n, payload {"batch": k, "i": i};
//   - for k >= 2, re-stashes every "b<j>-<i>" of one earlier batch j = rewritten_batch(k) with
//     payload {"batch": j, "i": i, "by": k} (recreating them if they were tossed);
//   - for k > 4 with k % 4 == 0, tosses every "b<k-4>-<i>";
//   - stashes "tip", payload {"batch": k}.
// A store that shows part of a batch differs from every model_after(k), which is what verify()
// checks: the store is compared with the model of the batch its "tip" names, id by id, payload
// and version.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wasm_sandbox/result.h"
#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store::crash {

constexpr const char* kTreeName = "crash";
constexpr const char* kTipId = "tip";

struct Doc {
  nlohmann::json payload;
  uint64_t version = 0;
  bool tossed = false;  // a tombstone: invisible to reads, but its version carries on
  bool operator==(const Doc&) const = default;
};
using Model = std::map<std::string, Doc>;  // id -> nut or tombstone

struct Op {
  bool toss = false;
  std::string id;
  nlohmann::json payload;  // stash only
};

// The earlier batch that batch k (>= 2) rewrites.
uint64_t rewritten_batch(uint64_t k);
// The operations of batch k with `n` documents per batch, in order.
std::vector<Op> batch_ops(uint64_t k, size_t n);
// Applies `ops` to `model` as the store would: every stash and every toss adds 1 to the
// version, a toss leaves a tombstone, a stash after a toss continues from its version.
void apply_ops(const std::vector<Op>& ops, Model& model);
// The state after batches 1..k.
Model model_after(uint64_t k, size_t n);

// Reads the whole tree through the store, nuts (a scan) and tombstones (the change feed), and
// checks that it is consistent: every nut decodes (the scan visits them all without error),
// count() equals the number the scan visits, a point lookup of every tenth id returns what the
// scan saw, and the change feed lists every nut the scan saw (same version and payload), no
// nut it did not see, in increasing sequence order up to last_seq(). Errors name the check
// that failed.
Result<Model> read_tree(const Store& store, const Tree& tree);

// The batch number of the store's "tip", 0 when there is none; an error if it is malformed.
Result<uint64_t> tip_of(const Model& actual);

// Checks `actual` (read_tree) against the workload: it must equal model_after(k) exactly for
// the k its tip names; k must be at least `reported` (the last batch the writer said was
// committed) and `previous` (what the last check found: commits are never lost), and at most
// reported + 1 (the batch in flight may have committed before its report was written).
// Returns k, or an error describing the first difference (a partially visible batch, a lost
// commit, a stray document).
Result<uint64_t> verify(const Model& actual, size_t n, uint64_t reported, uint64_t previous);

}  // namespace wasm_sandbox::store::crash
