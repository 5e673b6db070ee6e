// The crash test's writer (crash_test.cc): commits the workload of crash_model.h batch after
// batch to a durable store, and after each commit writes the batch number and a newline to
// stdout, until it is killed or has written `max_batches` batches.
//
//   store_crash_writer DIR DURABILITY N [SYNC_INTERVAL_MS [MAX_BATCHES]]
//
// DURABILITY is a to_string(Durability) name. The store may already hold batches from an
// earlier (killed) run: the writer continues after its tip. Exit status 0 after
// MAX_BATCHES, 2 for bad arguments, 1 for a store error (message on stderr). If the reader of
// stdout goes away, the next write raises SIGPIPE and ends the writer.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "store/crash_model.h"

using namespace wasm_sandbox;
using namespace wasm_sandbox::store;

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "store_crash_writer: %s\n", message.c_str());
  return 1;
}

// Writes all of `text`, or ends the process: a lost report would fail the test wrongly.
void report(const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(STDOUT_FILENO, text.data() + done, text.size() - done);
    if (n <= 0) std::_Exit(3);
    done += static_cast<size_t>(n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || argc > 6) {
    std::fprintf(stderr, "usage: %s DIR DURABILITY N [SYNC_INTERVAL_MS [MAX_BATCHES]]\n", argv[0]);
    return 2;
  }
  StoreOptions options;
  bool known = false;
  for (Durability d : {Durability::SyncEveryCommit, Durability::SyncEveryCommitButLast,
                       Durability::SyncPeriodically, Durability::NoSync}) {
    if (std::strcmp(argv[2], to_string(d)) == 0) options.durability = d, known = true;
  }
  const size_t n = std::strtoul(argv[3], nullptr, 10);
  if (!known || n == 0) {
    std::fprintf(stderr, "store_crash_writer: bad durability `%s` or N `%s`\n", argv[2], argv[3]);
    return 2;
  }
  if (argc > 4) options.sync_interval = std::chrono::milliseconds(std::atol(argv[4]));
  const uint64_t max_batches = argc > 5 ? std::strtoull(argv[5], nullptr, 10) : UINT64_MAX;

  auto store = Store::open(argv[1], options);
  if (!store.ok()) return fail(store.error().message());
  auto tree = store->tree(crash::kTreeName);
  if (!tree.ok()) return fail(tree.error().message());
  auto tip = tree->crack(crash::kTipId);
  if (!tip.ok() && tip.error().kind() != ErrorKind::NotFound) return fail(tip.error().message());
  uint64_t k = tip.ok() ? tip->payload["batch"].get<uint64_t>() : 0;

  for (uint64_t written = 0; written < max_batches; ++written) {
    ++k;
    const std::vector<crash::Op> ops = crash::batch_ops(k, n);
    Status committed = store->batch([&](Batch& batch) {
      for (const crash::Op& op : ops) {
        if (op.toss) {
          batch.toss(*tree, op.id);
        } else {
          batch.stash(*tree, op.id, op.payload);
        }
      }
    });
    if (!committed.ok())
      return fail("batch " + std::to_string(k) + ": " + committed.error().message());
    report(std::to_string(k) + "\n");
  }
  return 0;
}
