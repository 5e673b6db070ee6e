// `wasm-sandbox store put|get|del|scan|query|index|unindex|indexes DB TREE ...`: the document
// store (docs/store.md) from the shell. One line of output per nut, as JSON; errors are one line
// naming the store, the tree and the id.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include "cli/commands.h"
#include "store/json_text.h"
#include "wasm_sandbox/store.h"

namespace wasm_sandbox::cli {
namespace {

using store::Nut;

// Ids and payloads may hold bytes that are not UTF-8: replaced rather than fail.
std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A nut as the commands print it, fields in this order:
// {"id": ..., "version": ..., "timestamp": ..., "expiry": ... or null, "payload": ...}.
// Everything up to the payload's text:
template <class N>
std::string nut_head(const N& nut) {
  return "{\"id\":" + dump(std::string(nut.id)) + ",\"version\":" + std::to_string(nut.version) +
         ",\"timestamp\":" + std::to_string(nut.timestamp_ns) +
         ",\"expiry\":" + (nut.expires_at_ns ? std::to_string(*nut.expires_at_ns) : "null") +
         ",\"payload\":";
}
std::string nut_line(const Nut& nut) { return nut_head(nut) + dump(nut.payload) + "}"; }
// The same from the stored bytes, rendered without a DOM (the same text: NutView::json_text).
Result<std::string> nut_line(const store::NutView& nut) {
  std::string line = nut_head(nut);
  if (Status rendered = nut.append_json_text(&line); !rendered) return std::move(rendered).error();
  return line + "}";
}

// One line naming the store (unless the message does already); exit 1 for a nut or tree
// that is not there, 2 for everything else (bad input, a foreign file).
int fail(const StoreCommandOptions& options, const Error& error) {
  const std::string& message = error.message();
  print_error(message.starts_with(options.db) ? message : options.db + ": " + message);
  return error.kind() == ErrorKind::NotFound ? kExitFailure : kExitUsage;
}

int put(store::Tree& tree, const StoreCommandOptions& options) {
  std::string text = options.operand;
  if (text == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else if (text.empty()) {
    print_error("store put: give the document as JSON, or - to read it from stdin");
    return kExitUsage;
  }
  auto document = store::json_text::parse(text);
  if (!document) {
    return fail(options, Error(ErrorKind::InvalidArgument,
                               "tree `" + options.tree + "`: " + document.error().message()));
  }
  std::string id = options.id;
  if (id.empty()) {
    auto from_document = store::json_text::document_id(options.tree, *document);
    if (!from_document) return fail(options, from_document.error());
    id = std::move(*from_document);
  }
  store::StashOptions stash;
  if (options.expires_in_s > 0) {
    const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    stash.expires_at_ns =
        static_cast<uint64_t>(now.count()) + static_cast<uint64_t>(options.expires_in_s * 1e9);
  }
  auto version = tree.stash(id, *document, stash);
  if (!version) return fail(options, version.error());
  std::printf("%s\n", nlohmann::json({{"id", id}, {"version", *version}}).dump().c_str());
  return kExitOk;
}

int query(store::Tree& tree, const StoreCommandOptions& options) {
  auto parsed = store::Query::parse(options.operand);
  if (!parsed) {
    return fail(options, Error(ErrorKind::InvalidArgument,
                               "tree `" + options.tree + "`: " + parsed.error().message()));
  }
  if (options.explain) {
    auto plan = tree.explain(*parsed);
    if (!plan) return fail(options, plan.error());
    std::printf("%s\n", plan->text.c_str());
    return kExitOk;
  }
  if (options.count) {
    auto count = tree.count(*parsed);
    if (!count) return fail(options, count.error());
    std::printf("%llu\n", static_cast<unsigned long long>(*count));
    return kExitOk;
  }
  auto nuts = tree.query(*parsed);
  if (!nuts) return fail(options, nuts.error());
  for (const Nut& nut : *nuts) std::printf("%s\n", nut_line(nut).c_str());
  return kExitOk;
}

// index, unindex, indexes.
int indexes(store::Tree& tree, const StoreCommandOptions& options) {
  if (options.action == "indexes") {
    for (const std::string& field : tree.indexes()) std::printf("%s\n", field.c_str());
    return kExitOk;
  }
  Status done = options.action == "index" ? tree.create_index(options.operand)
                                          : tree.drop_index(options.operand);
  if (!done) return fail(options, done.error());
  return kExitOk;
}

}  // namespace

int run_store(const StoreCommandOptions& options) {
  if ((options.action == "get" || options.action == "del") && options.operand.empty()) {
    print_error("store " + options.action + ": give the id of the nut");
    return kExitUsage;
  }
  if ((options.action == "index" || options.action == "unindex") && options.operand.empty()) {
    print_error("store " + options.action + ": give the field (a path such as address.city)");
    return kExitUsage;
  }
  // Only put creates a store: reading a path that holds none is an error, not a new store.
  if (options.action != "put" && !std::filesystem::exists(options.db)) {
    print_error(options.db + ": no store here");
    return kExitUsage;
  }
  // Reading commands open the store read-only: they never write, so a mistyped tree name is
  // an error rather than a new empty tree.
  store::StoreOptions open_options;
  open_options.read_only = options.action == "get" || options.action == "scan" ||
                           options.action == "query" || options.action == "changes" ||
                           options.action == "indexes";
  auto db = store::Store::open(options.db, open_options);
  if (!db) return fail(options, db.error());
  auto tree = db->tree(options.tree);
  if (!tree) return fail(options, tree.error());
  if (options.action == "put") return put(*tree, options);
  if (options.action == "get") {
    Result<std::string> line = Error(ErrorKind::Internal, "");
    Status read =
        tree->crack_view(options.operand, [&](const store::NutView& nut) { line = nut_line(nut); });
    if (!read) return fail(options, read.error());
    if (!line) return fail(options, line.error());
    std::printf("%s\n", line->c_str());
    return kExitOk;
  }
  if (options.action == "query") return query(*tree, options);
  if (options.action == "index" || options.action == "unindex" || options.action == "indexes") {
    return indexes(*tree, options);
  }
  if (options.action == "purge") {
    auto purged = tree->purge_expired();
    if (!purged) return fail(options, purged.error());
    std::printf("{\"purged\":%llu}\n", static_cast<unsigned long long>(*purged));
    return kExitOk;
  }
  if (options.action == "changes") {
    Status listed;
    Status read = db->read([&](const store::ReadTxn& txn) {
      listed = txn.changes(*tree, options.since, 0, [](const store::Change& change) {
        std::printf("{\"seq\":%llu,\"deleted\":%s,%s\n",
                    static_cast<unsigned long long>(change.seq), change.deleted ? "true" : "false",
                    nut_line(change.nut).substr(1).c_str());
        return true;
      });
    });
    if (!read) return fail(options, read.error());
    if (!listed) return fail(options, listed.error());
    return kExitOk;
  }
  if (options.action == "del") {
    if (Status s = tree->toss(options.operand); !s) return fail(options, s.error());
    return kExitOk;
  }
  Status bad;  // a payload that did not render: the scan stops there
  Status scanned = tree->scan_view({.prefix = options.prefix}, [&](const store::NutView& nut) {
    auto line = nut_line(nut);
    if (!line) {
      bad = std::move(line).error();
      return false;
    }
    std::printf("%s\n", line->c_str());
    return true;
  });
  if (!scanned) return fail(options, scanned.error());
  if (!bad) return fail(options, bad.error());
  return kExitOk;
}

}  // namespace wasm_sandbox::cli
