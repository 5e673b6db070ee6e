// Errors as values: every fallible call in wasm-sandbox returns a Result<T> or a Status.
//
// The API never throws, so it works in hosts built with -fno-exceptions. An Error carries a kind
// from a small fixed set, the trap kind when the kind is Trap, and a message that names the input
// ("add.wasm: export `add` expects 2 arguments, got 3"). A guest trap is always ErrorKind::Trap,
// never confused with a failure of the host.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace wasm_sandbox {

// X(name, description): one list feeds the enum and its names.
#define WASM_SANDBOX_ERROR_KINDS(X)                                   \
  X(InvalidModule, "invalid module") /* malformed or invalid bytes */ \
  X(Unsupported, "unsupported")      /* valid wasm we cannot run */   \
  X(Link, "link error")              /* imports do not match */       \
  X(Trap, "trap")                    /* the guest trapped */          \
  X(LimitExceeded, "limit exceeded") /* a configured limit */         \
  X(CapabilityDenied, "capability denied")                            \
  X(Io, "I/O error")                                                  \
  X(NotFound, "not found")                                            \
  X(InvalidArgument, "invalid argument")                              \
  X(Internal, "internal error")

enum class ErrorKind {
#define WASM_SANDBOX_X(name, text) name,
  WASM_SANDBOX_ERROR_KINDS(WASM_SANDBOX_X)
#undef WASM_SANDBOX_X
};

// The ways guest code can trap. Out-of-bounds covers linear memory and tables alike: the
// generated code does not tell them apart.
#define WASM_SANDBOX_TRAP_KINDS(X)                                  \
  X(None, "no trap")                                                \
  X(OutOfBounds, "out of bounds memory or table access")            \
  X(IntegerOverflow, "integer overflow")                            \
  X(DivideByZero, "integer divide by zero")                         \
  X(InvalidConversion, "invalid conversion to integer")             \
  X(Unreachable, "unreachable executed")                            \
  X(IndirectCall, "indirect call to a null or mismatched function") \
  X(UncaughtException, "uncaught exception")                        \
  X(StackExhausted, "call stack exhausted")                         \
  X(HostError, "host function failed")                              \
  X(Exit, "exited") /* the guest ended itself (WASI proc_exit) */   \
  X(OutOfFuel, "out of fuel")                                       \
  X(Interrupted, "interrupted")                                     \
  X(Timeout, "timed out")

enum class TrapKind {
#define WASM_SANDBOX_X(name, text) name,
  WASM_SANDBOX_TRAP_KINDS(WASM_SANDBOX_X)
#undef WASM_SANDBOX_X
};

// Short, stable names: "invalid module", "call stack exhausted".
const char* to_string(ErrorKind kind);
const char* to_string(TrapKind kind);

class Error {
 public:
  Error(ErrorKind kind, std::string message, TrapKind trap = TrapKind::None)
      : kind_(kind), trap_(trap), message_(std::move(message)) {}

  // The guest ended itself with exit status `code` (WASI proc_exit): a Trap of kind Exit.
  static Error exit(int32_t code) {
    Error error(ErrorKind::Trap, "exited with code " + std::to_string(code), TrapKind::Exit);
    error.exit_code_ = code;
    return error;
  }

  ErrorKind kind() const { return kind_; }
  // TrapKind::None unless kind() == ErrorKind::Trap.
  TrapKind trap() const { return trap_; }
  // The guest's exit status when trap() == TrapKind::Exit, else 0.
  int32_t exit_code() const { return exit_code_; }
  // The whole message, naming the input; no trailing newline.
  const std::string& message() const { return message_; }

  // Prefixes the message with `context` and ": " (a file name, a function name).
  Error&& with_context(const std::string& context) && {
    message_ = context + ": " + message_;
    return std::move(*this);
  }

 private:
  ErrorKind kind_;
  TrapKind trap_;
  int32_t exit_code_ = 0;
  std::string message_;
};

namespace detail {
[[noreturn]] inline void die_on_unchecked(const char* what, const Error* error) {
  std::fprintf(stderr, "wasm-sandbox: %s%s%s\n", what, error ? ": " : "",
               error ? error->message().c_str() : "");
  std::abort();
}
}  // namespace detail

// A T or an Error. Accessing the value of an error (or the error of a value) is a programming
// error and aborts with the message, since the API does not throw.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    check();
    return std::get<0>(state_);
  }
  const T& value() const& {
    check();
    return std::get<0>(state_);
  }
  T&& value() && {
    check();
    return std::get<0>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& {
    if (ok()) detail::die_on_unchecked("error() called on a successful Result", nullptr);
    return std::get<1>(state_);
  }
  Error&& error() && {
    if (ok()) detail::die_on_unchecked("error() called on a successful Result", nullptr);
    return std::get<1>(std::move(state_));
  }

 private:
  void check() const {
    if (!ok()) detail::die_on_unchecked("value() called on an error", &std::get<1>(state_));
  }
  std::variant<T, Error> state_;
};

// Success, or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const& {
    if (ok()) detail::die_on_unchecked("error() called on a successful Status", nullptr);
    return error_;
  }
  Error&& error() && {
    if (ok()) detail::die_on_unchecked("error() called on a successful Status", nullptr);
    return std::move(error_);
  }

 private:
  Error error_{ErrorKind::Internal, ""};
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace wasm_sandbox
