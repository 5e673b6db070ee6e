// NutView and RawNut: decoding and rendering a stored payload (nut_view.h).
#include "wasm_sandbox/nut_view.h"

#include "store/msgpack_reader.h"
#include "store/msgpack_text.h"
#include "store/names.h"

namespace wasm_sandbox::store {
namespace {

Error corrupt(std::string_view id) {
  return Error(ErrorKind::Io,
               "nut " + names::quote(id) + ": corrupt payload (not one valid MessagePack value)");
}

}  // namespace

Result<nlohmann::json> NutView::payload() const {
  nlohmann::json value;
  if (!msgpack::decode(msgpack, &value)) return corrupt(id);
  return value;
}

Result<std::string> NutView::json_text() const {
  std::string text;
  if (!msgpack::append_json_text(msgpack, &text)) return corrupt(id);
  return text;
}

Status NutView::append_json_text(std::string* out) const {
  if (!msgpack::append_json_text(msgpack, out)) return corrupt(id);
  return {};
}

RawNut RawNut::from(const NutView& view) {
  return RawNut{std::string(view.id), std::string(view.msgpack), view.version, view.timestamp_ns,
                view.expires_at_ns};
}

}  // namespace wasm_sandbox::store
