// One namespace with quotas (space.h): every write reads the usage record, checks the quota and
// writes the nut and the new record in one write transaction.
//
// A put is the guest's hot path, so the accounting avoids DOMs: the usage record and the nut a
// write replaces are read in place (crack_view), and costs are measured on MessagePack by a
// size-only walk (nut_cost), the one function for adding, removing and recounting.
#include "store/guest/space.h"

#include <cstring>
#include <optional>

#include "store/json_text.h"
#include "store/msgpack_text.h"
#include "store/msgpack_writer.h"
#include "store/names.h"
#include "store/store_state.h"

namespace wasm_sandbox::store::guest {
namespace {

using json = nlohmann::json;

// The bytes a nut costs, from its key's size and its document's MessagePack: the key plus the
// document's compact JSON text as `get` returns it (json_text_size: the size of
// append_json_text's text, which is decode() + dump(replace)'s, without writing it); nullopt if
// the bytes are not one MessagePack value. Adding a nut, removing it and recounting all measure
// with this one function, on the same bytes, so they always agree.
std::optional<uint64_t> nut_cost(size_t key_size, std::string_view msgpack) {
  size_t text_size;
  if (!msgpack::json_text_size(msgpack, &text_size)) return std::nullopt;
  return key_size + text_size;
}

// The usage record {"bytes": n, "keys": n} read straight from its MessagePack, in the form
// write_usage() stores it (map of 2, "bytes" then "keys", each an unsigned integer in one of
// msgpack::encode's forms, nothing after); false for any other bytes, which the caller then
// reads through the DOM. What this accepts, decode() reads as the same two unsigned numbers.
bool parse_usage(std::string_view bytes, GuestUsage* out) {
  auto p = reinterpret_cast<const uint8_t*>(bytes.data());
  const uint8_t* end = p + bytes.size();
  auto literal = [&](std::string_view text) {
    if (static_cast<size_t>(end - p) < text.size() || std::memcmp(p, text.data(), text.size())) {
      return false;
    }
    p += text.size();
    return true;
  };
  auto uint = [&](uint64_t* n) {
    if (p == end) return false;
    const uint8_t tag = *p++;
    if (tag <= 0x7f) return *n = tag, true;
    if (tag < 0xcc || tag > 0xcf) return false;
    const size_t size = size_t{1} << (tag - 0xcc);
    if (static_cast<size_t>(end - p) < size) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < size; ++i) v = (v << 8) | p[i];
    p += size;
    *n = v;
    return true;
  };
  auto key = [&](std::string_view name) {  // a fixstr
    return p != end && *p++ == (0xa0 | name.size()) && literal(name);
  };
  GuestUsage usage;
  if (p == end || *p++ != 0x82 || !key("bytes") || !uint(&usage.bytes) || !key("keys") ||
      !uint(&usage.keys) || p != end) {
    return false;
  }
  *out = usage;
  return true;
}

// The failure for a nut whose payload is not one MessagePack value: crack()'s message.
SpaceResult corrupt(std::string_view tree, std::string_view id) {
  return SpaceResult::failure(GuestCode::Failed, names::where(tree, id) + ": corrupt stored value");
}

// What is wrong with `text` before it is parsed, if anything: a NUL byte (never valid in JSON
// text, and nlohmann's parser takes it for the end of the input, accepting whatever follows),
// or arrays and objects nested more than `max_depth` deep (brackets inside strings do not
// count): nlohmann's parser is iterative, but its dump() and MessagePack writer recurse once
// per level, on whatever stack the guest's call left.
std::optional<std::string> precheck(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\0') return "malformed JSON: NUL byte at offset " + std::to_string(i);
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        return "malformed JSON: nested deeper than " + std::to_string(max_depth) + " levels";
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

SpaceResult from_store_error(const Error& error) {
  return SpaceResult::failure(
      error.kind() == ErrorKind::NotFound ? GuestCode::NotFound : GuestCode::Failed,
      error.message());
}

}  // namespace

Error to_error(SpaceResult outcome) {
  ErrorKind kind = ErrorKind::Internal;
  switch (outcome.code) {
    case GuestCode::Ok:
      break;
    case GuestCode::NotFound:
      kind = ErrorKind::NotFound;
      break;
    case GuestCode::BadKey:
    case GuestCode::BadJson:
    case GuestCode::Fault:
    case GuestCode::TooSmall:
      kind = ErrorKind::InvalidArgument;
      break;
    case GuestCode::TooLarge:
    case GuestCode::QuotaBytes:
    case GuestCode::QuotaKeys:
      kind = ErrorKind::LimitExceeded;
      break;
    case GuestCode::Failed:
      kind = ErrorKind::Io;
      break;
  }
  return Error(kind, std::move(outcome.message));
}

Space::Space(Store store, Tree data, Tree usage, std::string name_space, GuestQuota quota)
    : store_(std::move(store)),
      data_(std::move(data)),
      usage_(std::move(usage)),
      name_space_(std::move(name_space)),
      prefix_(name_space_ + "/"),
      quota_(quota) {}

std::optional<Error> Space::check_name_space(std::string_view name_space) {
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  bool ok = !name_space.empty() && name_space.size() <= 64 && alnum(name_space[0]);
  for (char c : name_space) ok = ok && (alnum(c) || c == '_' || c == '.' || c == '-');
  if (ok) return std::nullopt;
  return Error(ErrorKind::InvalidArgument,
               "namespace " + names::quote(name_space) +
                   ": must be 1 to 64 bytes of [A-Za-z0-9_.-] starting with a letter or digit");
}

std::string Space::id(std::string_view key) const {
  std::string out;
  out.reserve(prefix_.size() + key.size());
  out += prefix_;
  out += key;
  return out;
}

std::string Space::where() const {
  return "tree `" + data_.name() + "`, namespace `" + name_space_ + "`";
}

std::string Space::where(std::string_view key) const {
  return where() + ", key " + names::quote(key);
}

std::optional<SpaceResult> Space::check_key(std::string_view key, const char* what) const {
  if (key.empty()) return SpaceResult::failure(GuestCode::BadKey, where() + ": empty " + what);
  if (key.size() > StoreCapability::kMaxKeyBytes) {
    return SpaceResult::failure(GuestCode::BadKey,
                                where(key) + ": " + what + " of " + std::to_string(key.size()) +
                                    " bytes is longer than the " +
                                    std::to_string(StoreCapability::kMaxKeyBytes) + " allowed");
  }
  return std::nullopt;
}

SpaceResult Space::read_usage(const ReadTxn& txn, GuestUsage& out) const {
  out = {};
  auto view = txn.crack_view(usage_, name_space_);
  if (view.ok() && parse_usage(view->msgpack, &out)) return {};
  if (!view.ok() && view.error().kind() == ErrorKind::NotFound) return {};
  // Anything else (a record in another form, a corrupt one, an error) as the DOM reads it.
  auto record = txn.crack(usage_, name_space_);
  if (!record.ok()) {
    if (record.error().kind() == ErrorKind::NotFound) return {};
    return SpaceResult::failure(GuestCode::Failed, record.error().message());
  }
  const json& doc = record->payload;
  auto bytes = doc.find("bytes");
  auto keys = doc.find("keys");
  if (!doc.is_object() || bytes == doc.end() || keys == doc.end() || !bytes->is_number_unsigned() ||
      !keys->is_number_unsigned()) {
    return SpaceResult::failure(GuestCode::Failed, "tree `" + usage_.name() + "`, id `" +
                                                       name_space_ +
                                                       "`: usage record is not {\"bytes\": n, "
                                                       "\"keys\": n} (StoreCapability::recount "
                                                       "rebuilds it)");
  }
  out.bytes = bytes->get<uint64_t>();
  out.keys = keys->get<uint64_t>();
  return {};
}

SpaceResult Space::write_usage(WriteTxn& txn, const GuestUsage& usage) const {
  auto stashed = txn.stash(usage_, name_space_, json{{"bytes", usage.bytes}, {"keys", usage.keys}});
  if (!stashed.ok()) return SpaceResult::failure(GuestCode::Failed, stashed.error().message());
  return {};
}

SpaceResult Space::write(const std::function<SpaceResult(WriteTxn&)>& fn) const {
  SpaceResult outcome;
  // A grouped write (src/store/write_group.h): sandboxes writing at once share commits.
  Status status =
      detail::with_grouped_write(*detail::Access::state(data_), [&](WriteTxn& txn) -> Status {
        outcome = fn(txn);
        if (outcome.ok()) return {};
        return Error(ErrorKind::Internal, "");  // aborts; `outcome` says why
      });
  if (!outcome.ok()) return outcome;
  if (!status.ok()) return SpaceResult::failure(GuestCode::Failed, status.error().message());
  return {};
}

SpaceResult Space::put(std::string_view key, std::string_view json_text) const {
  if (auto bad = check_key(key)) return std::move(*bad);
  if (json_text.size() > quota_.max_document_bytes) {
    return SpaceResult::failure(GuestCode::TooLarge,
                                where(key) + ": JSON text of " + std::to_string(json_text.size()) +
                                    " bytes is longer than the " +
                                    std::to_string(quota_.max_document_bytes) +
                                    " allowed (GuestQuota::max_document_bytes)");
  }
  if (auto bad = precheck(json_text, StoreCapability::kMaxJsonDepth)) {
    return SpaceResult::failure(GuestCode::BadJson, where(key) + ": " + *bad);
  }
  // Parsed outside the transaction: LMDB's writer lock is not held while a guest's text is read.
  auto document = json_text::parse(json_text);
  if (!document.ok()) {
    return SpaceResult::failure(GuestCode::BadJson, where(key) + ": " + document.error().message());
  }
  // Measured on the bytes the stash will store (the same encoder), as every stored nut is; the
  // view is used at once, before the stash reuses the buffer.
  const std::optional<uint64_t> cost = nut_cost(key.size(), msgpack::encode_scratch(*document));
  if (!cost) {
    return SpaceResult::failure(GuestCode::Failed, where(key) + ": its MessagePack is not valid");
  }
  const std::string nut_id = id(key);
  return write([&](WriteTxn& txn) -> SpaceResult {
    GuestUsage before;
    if (SpaceResult read = read_usage(txn, before); !read.ok()) return read;
    GuestUsage after = before;
    auto old = txn.crack_view(data_, nut_id);  // valid until the stash below
    if (old.ok()) {
      const std::optional<uint64_t> old_cost = nut_cost(key.size(), old->msgpack);
      if (!old_cost) return corrupt(data_.name(), nut_id);
      after.bytes -= std::min(after.bytes, *old_cost);
    } else if (old.error().kind() == ErrorKind::NotFound) {
      ++after.keys;
    } else {
      return SpaceResult::failure(GuestCode::Failed, old.error().message());
    }
    after.bytes += *cost;
    if (after.keys > before.keys && after.keys > quota_.max_keys) {
      return SpaceResult::failure(GuestCode::QuotaKeys, where(key) + ": a new key would make " +
                                                            std::to_string(after.keys) +
                                                            " keys, over the quota of " +
                                                            std::to_string(quota_.max_keys));
    }
    if (after.bytes > before.bytes && after.bytes > quota_.max_bytes) {
      return SpaceResult::failure(GuestCode::QuotaBytes,
                                  where(key) + ": this put would use " +
                                      std::to_string(after.bytes) + " bytes (" +
                                      std::to_string(before.bytes) + " now), over the quota of " +
                                      std::to_string(quota_.max_bytes));
    }
    auto stashed = txn.stash(data_, nut_id, *document);
    if (!stashed.ok()) return SpaceResult::failure(GuestCode::Failed, stashed.error().message());
    if (after == before) return {};  // an overwrite of the same cost: the record stays as it is
    return write_usage(txn, after);
  });
}

SpaceResult Space::get(std::string_view key, std::string& json_text) const {
  if (auto bad = check_key(key)) return std::move(*bad);
  // Rendered from the stored MessagePack: the text dump() would give (msgpack_text.h).
  json_text.clear();
  bool rendered = true;
  Status read = data_.crack_view(id(key), [&](const NutView& nut) {
    rendered = msgpack::append_json_text(nut.msgpack, &json_text);
  });
  if (!read.ok()) {
    if (read.error().kind() == ErrorKind::NotFound) {
      return SpaceResult::failure(GuestCode::NotFound, where(key) + ": no such key");
    }
    return from_store_error(read.error());
  }
  if (!rendered) return corrupt(data_.name(), id(key));
  return {};
}

SpaceResult Space::erase(std::string_view key) const {
  if (auto bad = check_key(key)) return std::move(*bad);
  const std::string nut_id = id(key);
  return write([&](WriteTxn& txn) -> SpaceResult {
    // Its cost; nullopt for a corrupt nut (header or payload), whose cost is unknown: it is
    // removed, then the usage is recounted.
    std::optional<uint64_t> cost;
    auto old = txn.crack_view(data_, nut_id);  // valid until the toss below
    if (old.ok()) {
      cost = nut_cost(key.size(), old->msgpack);
    } else if (old.error().kind() == ErrorKind::NotFound) {
      return SpaceResult::failure(GuestCode::NotFound, where(key) + ": no such key");
    } else if (old.error().kind() != ErrorKind::Io) {
      return from_store_error(old.error());
    }
    if (Status tossed = txn.toss(data_, nut_id); !tossed.ok()) {
      return from_store_error(tossed.error());
    }
    GuestUsage usage;
    if (!cost) {
      if (SpaceResult summed = sum_nuts(txn, usage); !summed.ok()) return summed;
      return write_usage(txn, usage);
    }
    if (SpaceResult read = read_usage(txn, usage); !read.ok()) return read;
    const GuestUsage before = usage;
    usage.bytes -= std::min(usage.bytes, *cost);
    usage.keys -= std::min<uint64_t>(usage.keys, 1);
    if (usage == before) return {};  // nothing to take off (a usage already at zero)
    return write_usage(txn, usage);
  });
}

SpaceResult Space::exists(std::string_view key, bool& found) const {
  if (auto bad = check_key(key)) return std::move(*bad);
  auto result = data_.exists(id(key));
  if (!result.ok()) return from_store_error(result.error());
  found = *result;
  return {};
}

SpaceResult Space::usage(GuestUsage& out) const {
  SpaceResult outcome;
  Status status = store_.read([&](const ReadTxn& txn) { outcome = read_usage(txn, out); });
  if (!status.ok()) return SpaceResult::failure(GuestCode::Failed, status.error().message());
  return outcome;
}

SpaceResult Space::list(std::string_view prefix, std::string_view after,
                        const KeyVisitor& visit) const {
  if (prefix.size() > StoreCapability::kMaxKeyBytes) {
    if (auto bad = check_key(prefix, "prefix")) return std::move(*bad);
  }
  if (after.size() > StoreCapability::kMaxKeyBytes) {
    if (auto bad = check_key(after, "`after` key")) return std::move(*bad);
  }
  ScanOptions options;
  options.prefix = id(prefix);
  // The least id greater than `after`'s is that id followed by a zero byte.
  if (!after.empty()) options.from = id(after) + '\0';
  const size_t skip = prefix_.size();
  Status scanned =
      data_.scan(options, [&](Nut& nut) { return visit(std::string_view(nut.id).substr(skip)); });
  if (!scanned.ok()) return from_store_error(scanned.error());
  return {};
}

SpaceResult Space::sum_nuts(const ReadTxn& txn, GuestUsage& out) const {
  out = {};
  ScanOptions options;
  options.prefix = prefix_;
  const size_t skip = prefix_.size();
  std::optional<SpaceResult> bad;
  Status scanned = txn.scan_view(data_, options, [&](const NutView& nut) {
    const std::optional<uint64_t> cost = nut_cost(nut.id.size() - skip, nut.msgpack);
    if (!cost) {
      bad = corrupt(data_.name(), nut.id);
      return false;
    }
    out.bytes += *cost;
    ++out.keys;
    return true;
  });
  if (!scanned.ok()) return from_store_error(scanned.error());
  if (bad) return std::move(*bad);
  return {};
}

SpaceResult Space::recount(GuestUsage& out) const {
  return write([&](WriteTxn& txn) -> SpaceResult {
    if (SpaceResult summed = sum_nuts(txn, out); !summed.ok()) return summed;
    return write_usage(txn, out);
  });
}

}  // namespace wasm_sandbox::store::guest
