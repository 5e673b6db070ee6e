// The workload the store and SQLite benchmarks share (store_bench.cc, store_sqlite_bench.cc):
// the same documents, ids, read order and query, so each store/X has a sqlite/X to compare.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace store_bench {

using json = nlohmann::json;

// Documents in the read, query, scan and space benchmarks.
inline constexpr uint64_t kCount = 10000;
// The indexed query: ages are spread evenly over [18, 118), so [kAgeFrom, kAgeTo) selects
// kCount / 100 = 100 documents.
inline constexpr int64_t kAgeFrom = 40;
inline constexpr int64_t kAgeTo = 41;

inline std::string id(uint64_t i) { return "user:" + std::to_string(i); }

// About 150 bytes as compact JSON text (152 for i = 5000).
inline json document(uint64_t i) {
  return {{"id", id(i)},
          {"name", "Ada Lovelace"},
          {"email", "ada@example.org"},
          {"age", 18 + (i * 7919) % 100},
          {"active", true},
          {"score", 98.25},
          {"tags", {"math", "engines", "poetry"}},
          {"visits", i}};
}

// The ids of the kCount documents in a scattered order, for point reads.
inline std::vector<std::string> read_order() {
  std::vector<std::string> ids;
  for (uint64_t i = 0; i < kCount; ++i) ids.push_back(id((i * 7919) % kCount));
  return ids;
}

}  // namespace store_bench
