// JSON text and document ids (json_text.h).
//
// nlohmann's exception-free parse only says "failed"; the reason comes from a second, SAX pass
// that records the parser's message, so the fast path (valid text) parses once.
#include "store/json_text.h"

namespace wasm_sandbox::store::json_text {
namespace {

using json = nlohmann::json;

// Accepts every event and keeps the first parse error's message.
class ErrorRecorder : public nlohmann::json_sax<json> {
 public:
  std::string message;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    message = ex.what();
    return false;
  }
};

}  // namespace

Result<json> parse(std::string_view text) {
  // nlohmann's parser takes a NUL byte for the end of the input and would accept the text
  // before it, dropping the rest.
  if (const size_t nul = text.find('\0'); nul != std::string_view::npos) {
    return Error(ErrorKind::InvalidArgument,
                 "malformed JSON: a NUL byte at offset " + std::to_string(nul));
  }
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!document.is_discarded()) return document;
  ErrorRecorder recorder;
  json::sax_parse(text, &recorder, nlohmann::detail::input_format_t::json, /*strict=*/true);
  return Error(ErrorKind::InvalidArgument,
               "malformed JSON: " + (recorder.message.empty() ? "parse error" : recorder.message));
}

Result<std::string> document_id(std::string_view tree, const json& document) {
  const std::string where = "tree `" + std::string(tree) + "`: ";
  if (!document.is_object()) {
    return Error(ErrorKind::InvalidArgument, where + "document is a " + document.type_name() +
                                                 ", not an object with an \"id\" or \"key\" field");
  }
  for (const char* field : {"id", "key"}) {
    auto found = document.find(field);
    if (found == document.end()) continue;
    if (!found->is_string()) {
      return Error(ErrorKind::InvalidArgument, where + "the document's \"" + field +
                                                   "\" field is a " + found->type_name() +
                                                   ", not a string");
    }
    return found->get<std::string>();
  }
  return Error(ErrorKind::InvalidArgument,
               where + "document has neither an \"id\" nor a \"key\" string field");
}

}  // namespace wasm_sandbox::store::json_text
