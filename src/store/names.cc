// Tree names and nut ids (names.h).
#include "store/names.h"

#include <cstdio>

namespace wasm_sandbox::store::names {

std::optional<Error> check_tree_name(std::string_view name) {
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  bool ok = !name.empty() && name.size() <= 64 && alnum(name[0]);
  for (char c : name) ok = ok && (alnum(c) || c == '_' || c == '.' || c == '-');
  if (ok) return std::nullopt;
  return Error(ErrorKind::InvalidArgument,
               "tree name " + quote(name) +
                   ": must be 1 to 64 bytes of [A-Za-z0-9_.-] starting with a letter or digit");
}

std::optional<Error> check_id(std::string_view tree, std::string_view id, size_t max_key_size) {
  if (id.empty()) {
    return Error(ErrorKind::InvalidArgument, "tree `" + std::string(tree) + "`: empty id");
  }
  if (id.size() > max_key_size) {
    return Error(ErrorKind::InvalidArgument,
                 where(tree, id) + ": id of " + std::to_string(id.size()) +
                     " bytes is longer than the " + std::to_string(max_key_size) + " allowed");
  }
  return std::nullopt;
}

std::string quote(std::string_view id) {
  constexpr size_t kShown = 64;
  std::string out = "`";
  for (size_t i = 0; i < id.size() && i < kShown; ++i) {
    unsigned char c = static_cast<unsigned char>(id[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  out += id.size() > kShown ? "...`" : "`";
  return out;
}

std::string where(std::string_view tree, std::string_view id) {
  return "tree `" + std::string(tree) + "`, id " + quote(id);
}

}  // namespace wasm_sandbox::store::names
