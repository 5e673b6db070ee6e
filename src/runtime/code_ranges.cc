// The registry of generated code: see code_ranges.h.
//
// Readers (signal handlers) announce themselves in a counter, then read the current table;
// a writer publishes a new table, then waits until the counter is zero before freeing the
// old one. Both sides use sequentially consistent operations, so a reader that counted
// itself after the writer saw zero reads the new table. Lookups are brief and rare, so the
// writer's wait is too.
#include "runtime/code_ranges.h"

#include <sched.h>

#include <algorithm>
#include <mutex>

#include "runtime/sanitizers.h"

namespace wasm_sandbox::runtime {
namespace {

// Immutable once published: `count` ranges sorted by begin, none overlapping.
struct Table {
  size_t count;
  CodeRange* ranges;
};

// Never destroyed: code may be unloaded by threads still running while the process exits
// (call_async's workers, for one).
struct Registry {
  std::mutex mutex;
  std::vector<CodeRange> all;  // guarded by mutex: what the published table holds
};
Registry& registry() {
  static auto* r = new Registry;
  return *r;
}

// Accessed with __atomic builtins only (the handler side must not call into a sanitizer).
Table* g_table = nullptr;
int g_readers = 0;

void publish() {  // REQUIRES: registry().mutex
  const std::vector<CodeRange>& all = registry().all;
  auto* next = new Table{all.size(), new CodeRange[std::max<size_t>(all.size(), 1)]};
  std::copy(all.begin(), all.end(), next->ranges);
  Table* old = __atomic_exchange_n(&g_table, next, __ATOMIC_SEQ_CST);
  while (__atomic_load_n(&g_readers, __ATOMIC_SEQ_CST) != 0) sched_yield();
  if (old) {
    delete[] old->ranges;
    delete old;
  }
}

bool by_begin(const CodeRange& a, const CodeRange& b) { return a.begin < b.begin; }

}  // namespace

CodeRegistration::CodeRegistration(std::vector<CodeRange> ranges) {
  for (const CodeRange& range : ranges) {
    if (range.begin < range.end) ranges_.push_back(range);
  }
  if (ranges_.empty()) return;
  std::lock_guard lock(registry().mutex);
  std::vector<CodeRange>& all = registry().all;
  for (const CodeRange& range : ranges_) {
    all.insert(std::upper_bound(all.begin(), all.end(), range, by_begin), range);
  }
  publish();
}

CodeRegistration& CodeRegistration::operator=(CodeRegistration&& other) noexcept {
  if (this != &other) {
    reset();
    ranges_ = std::move(other.ranges_);
    other.ranges_.clear();
  }
  return *this;
}

void CodeRegistration::reset() {
  if (ranges_.empty()) return;
  std::lock_guard lock(registry().mutex);
  std::vector<CodeRange>& all = registry().all;
  for (const CodeRange& range : ranges_) {
    auto it = std::find_if(all.begin(), all.end(), [&](const CodeRange& r) {
      return r.begin == range.begin && r.end == range.end;
    });
    if (it != all.end()) all.erase(it);
  }
  ranges_.clear();
  publish();
}

WS_NO_TSAN bool is_generated_code(uintptr_t pc) {
  __atomic_fetch_add(&g_readers, 1, __ATOMIC_SEQ_CST);
  const Table* table = __atomic_load_n(&g_table, __ATOMIC_SEQ_CST);
  bool found = false;
  if (table) {
    // The first range that begins after pc; the one before it is the candidate.
    size_t low = 0;
    size_t high = table->count;
    while (low < high) {
      const size_t mid = low + (high - low) / 2;
      if (table->ranges[mid].begin <= pc) {
        low = mid + 1;
      } else {
        high = mid;
      }
    }
    found = low > 0 && pc < table->ranges[low - 1].end;
  }
  __atomic_fetch_sub(&g_readers, 1, __ATOMIC_SEQ_CST);
  return found;
}

}  // namespace wasm_sandbox::runtime
