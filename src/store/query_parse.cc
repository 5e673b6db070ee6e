// The query language (store_query.h: Query::parse; docs/store.md, "Query language"):
//
//   query     = [ condition { "and" condition } ] { clause }
//   condition = field ( op value | "exists" | "not" "exists" )
//             | "timestamp" "between" integer "and" integer
//   op        = "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "contains" | "prefix"
//   clause    = "order" "by" key { "," key } | "skip" integer | ("limit" | "take") integer
//             | "newest" integer | "oldest" integer
//   key       = ( "timestamp" | field ) [ "asc" | "desc" ]
//   field     = name { "." segment }  |  "/" JSON pointer, up to the next space
//   value     = a JSON value: number, "string", true, false, null, [...], {...}
//
// A hand-written scanner and recursive-descent parser: the input is one line from a shell
// or a program, and every error names its 1-based byte column and the token found there.
#include <cctype>
#include <optional>
#include <vector>

#include "store/query_text.h"
#include "wasm_sandbox/store_query.h"

namespace wasm_sandbox::store {
namespace {

using json = nlohmann::json;

constexpr std::string_view kKeywords[] = {"and",      "or",     "not",       "order",   "by",
                                          "asc",      "desc",   "skip",      "limit",   "take",
                                          "newest",   "oldest", "timestamp", "between", "exists",
                                          "contains", "prefix", "true",      "false",   "null"};

struct Token {
  enum Kind { End, Word, Pointer, Symbol, Number, String, Composite } kind = End;
  std::string_view text;
  size_t column = 0;  // 1-based
};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<Query> parse() {
    Query query;
    if (!scan()) return error_;
    bool any_condition = false;
    while (peek().kind != Token::End && !starts_clause(peek())) {
      if (any_condition) {
        if (is(peek(), "or")) {
          return fail(peek(), "`or` is not supported: conditions are joined by `and` only");
        }
        if (!is(peek(), "and")) return expected("`and` or a clause", last_, peek());
        advance();
      }
      if (auto bad = condition(query)) return *bad;
      any_condition = true;
    }
    while (peek().kind != Token::End) {
      if (auto bad = clause(query)) return *bad;
    }
    return query;
  }

 private:
  // --- scanning ---
  bool scan() {
    size_t i = 0;
    while (true) {
      while (i < text_.size() && std::isspace(static_cast<unsigned char>(text_[i]))) ++i;
      Token t;
      t.column = i + 1;
      if (i == text_.size()) {
        tokens_.push_back(t);
        return true;
      }
      const size_t start = i;
      const char c = text_[i];
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        while (i < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[i])) ||
                                    text_[i] == '_' || text_[i] == '.')) {
          ++i;
        }
        t.kind = Token::Word;
      } else if (c == '/') {
        while (i < text_.size() && !std::isspace(static_cast<unsigned char>(text_[i]))) ++i;
        t.kind = Token::Pointer;
      } else if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
        ++i;
        while (i < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[i])) ||
                                    text_[i] == '.' || text_[i] == '+' || text_[i] == '-')) {
          ++i;
        }
        t.kind = Token::Number;
      } else if (c == '"') {
        if (!string_end(&i)) return scan_error(start, "unterminated string");
        t.kind = Token::String;
      } else if (c == '[' || c == '{') {
        if (!composite_end(&i)) {
          return scan_error(start, std::string("unbalanced `") + c + "`");
        }
        t.kind = Token::Composite;
      } else if (c == '=' || c == '<' || c == '>' || c == '!') {
        ++i;
        if (i < text_.size() && text_[i] == '=') ++i;
        if (text_.substr(start, i - start) == "!") return scan_error(start, "`!` without `=`");
        t.kind = Token::Symbol;
      } else if (c == ',') {
        ++i;
        t.kind = Token::Symbol;
      } else {
        return scan_error(start, "unexpected character `" + std::string(1, c) + "`");
      }
      t.text = text_.substr(start, i - start);
      tokens_.push_back(t);
    }
  }
  // Past the closing quote of the string starting at *i.
  bool string_end(size_t* i) {
    for (size_t j = *i + 1; j < text_.size(); ++j) {
      if (text_[j] == '\\') {
        ++j;
      } else if (text_[j] == '"') {
        *i = j + 1;
        return true;
      }
    }
    return false;
  }
  // Past the bracket closing the one at *i (strings inside skipped).
  bool composite_end(size_t* i) {
    int depth = 0;
    for (size_t j = *i; j < text_.size(); ++j) {
      const char c = text_[j];
      if (c == '"') {
        if (!string_end(&j)) return false;
        --j;
      } else if (c == '[' || c == '{') {
        ++depth;
      } else if ((c == ']' || c == '}') && --depth == 0) {
        *i = j + 1;
        return true;
      }
    }
    return false;
  }
  bool scan_error(size_t offset, const std::string& what) {
    error_ = Error(ErrorKind::InvalidArgument,
                   "query: at column " + std::to_string(offset + 1) + ": " + what);
    return false;
  }

  // --- parsing ---
  const Token& peek(size_t ahead = 0) const {
    return tokens_[std::min(next_ + ahead, tokens_.size() - 1)];
  }
  // A copy: last_ changes on the next advance.
  Token advance() {
    last_ = tokens_[next_];
    if (next_ + 1 < tokens_.size()) ++next_;
    return last_;
  }
  static bool is(const Token& t, std::string_view word) {
    return (t.kind == Token::Word || t.kind == Token::Symbol) && t.text == word;
  }
  static bool starts_clause(const Token& t) {
    for (const char* word : {"order", "skip", "limit", "take", "newest", "oldest"}) {
      if (is(t, word)) return true;
    }
    return false;
  }
  static std::string describe(const Token& t) {
    return t.kind == Token::End ? "end of input" : "`" + std::string(t.text) + "`";
  }
  static Error fail(const Token& at, const std::string& what) {
    return Error(ErrorKind::InvalidArgument,
                 "query: at column " + std::to_string(at.column) + ": " + what);
  }
  static Error expected(const std::string& what, const Token& after, const Token& found) {
    std::string text = "expected " + what;
    if (after.kind != Token::End) text += " after `" + std::string(after.text) + "`";
    return fail(found, text + ", found " + describe(found));
  }

  std::optional<Error> field(std::string* out) {
    const Token& t = peek();
    if (t.kind == Token::Pointer) {
      *out = std::string(advance().text);
      return std::nullopt;
    }
    if (t.kind != Token::Word) return expected("a field", last_, t);
    std::string_view first = t.text.substr(0, t.text.find('.'));
    if (query_text::is_keyword(first)) {
      return fail(t, "expected a field, found the keyword `" + std::string(first) +
                         "` (write a field of that name as a JSON pointer: /" +
                         std::string(t.text) + ")");
    }
    if (t.text.ends_with('.') || t.text.find("..") != std::string_view::npos) {
      return fail(t, "malformed field `" + std::string(t.text) + "`");
    }
    *out = std::string(advance().text);
    return std::nullopt;
  }

  std::optional<Error> value(const Token& op, json* out) {
    const Token& t = peek();
    if (t.kind == Token::End || t.kind == Token::Symbol || t.kind == Token::Pointer ||
        (t.kind == Token::Word && !is(t, "true") && !is(t, "false") && !is(t, "null"))) {
      return expected("a value", op, t);
    }
    json parsed = json::parse(t.text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return fail(t, "malformed value " + describe(t));
    *out = std::move(parsed);
    advance();
    return std::nullopt;
  }

  std::optional<Error> integer(const Token& after, uint64_t* out) {
    const Token& t = peek();
    if (t.kind != Token::Number) return expected("a whole number", after, t);
    uint64_t n = 0;
    for (char c : t.text) {
      if (c < '0' || c > '9' || n > (UINT64_MAX - 9) / 10) {
        return fail(t, "expected a whole number from 0 to 2^64-1, found " + describe(t));
      }
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    *out = n;
    advance();
    return std::nullopt;
  }

  std::optional<Error> condition(Query& query) {
    if (is(peek(), "timestamp")) {
      const Token keyword = advance();
      if (!is(peek(), "between")) return expected("`between`", keyword, peek());
      uint64_t from, to;
      if (auto bad = integer(advance(), &from)) return bad;
      if (!is(peek(), "and")) return expected("`and`", last_, peek());
      if (auto bad = integer(advance(), &to)) return bad;
      query.between(from, to);
      return std::nullopt;
    }
    std::string name;
    if (auto bad = field(&name)) return bad;
    const Token& op = peek();
    static constexpr std::pair<std::string_view, Op> kOps[] = {
        {"=", Op::Eq},         {"==", Op::Eq}, {"!=", Op::Ne}, {"<", Op::Lt},
        {"<=", Op::Le},        {">", Op::Gt},  {">=", Op::Ge}, {"contains", Op::Contains},
        {"prefix", Op::Prefix}};
    if (is(op, "exists")) {
      advance();
      query.where(std::move(name), Op::Exists);
      return std::nullopt;
    }
    if (is(op, "not")) {
      advance();
      if (!is(peek(), "exists")) return expected("`exists`", last_, peek());
      advance();
      query.where(std::move(name), Op::NotExists);
      return std::nullopt;
    }
    for (const auto& [text, kind] : kOps) {
      if (!is(op, text)) continue;
      const Token op_token = advance();
      json operand;
      if (auto bad = value(op_token, &operand)) return bad;
      query.where(std::move(name), kind, std::move(operand));
      return std::nullopt;
    }
    return expected("an operator (= != < <= > >= contains prefix exists, not exists)", last_, op);
  }

  std::optional<Error> clause(Query& query) {
    const Token t = advance();
    uint64_t n = 0;
    if (is(t, "order")) {
      if (!is(peek(), "by")) return expected("`by`", t, peek());
      advance();
      do {
        if (is(peek(), ",")) advance();
        Order order = Ascending;
        std::string name;
        const bool by_timestamp = is(peek(), "timestamp");
        if (by_timestamp) {
          advance();
        } else if (auto bad = field(&name)) {
          return bad;
        }
        if (is(peek(), "asc") || is(peek(), "desc")) {
          order = is(advance(), "desc") ? Descending : Ascending;
        }
        if (by_timestamp) {
          query.order_by_timestamp(order);
        } else {
          query.order_by(std::move(name), order);
        }
      } while (is(peek(), ","));
      return std::nullopt;
    }
    if (!starts_clause(t)) {
      return fail(
          t, "expected a clause (order by, skip, limit, newest, oldest), found " + describe(t));
    }
    if (auto bad = integer(t, &n)) return bad;
    const size_t count = static_cast<size_t>(n);
    if (is(t, "skip")) {
      query.skip(count);
    } else if (is(t, "limit") || is(t, "take")) {
      query.take(count);
    } else if (is(t, "newest")) {
      query.newest(count);
    } else {
      query.oldest(count);
    }
    return std::nullopt;
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  size_t next_ = 0;
  Token last_;
  Error error_{ErrorKind::InvalidArgument, ""};
};

}  // namespace

namespace query_text {

bool is_keyword(std::string_view word) {
  for (std::string_view k : kKeywords) {
    if (word == k) return true;
  }
  return false;
}

}  // namespace query_text

Result<Query> Query::parse(std::string_view text) { return Parser(text).parse(); }

}  // namespace wasm_sandbox::store
