// Typed calls into a guest: the signature is checked once, when the handle is made, and each
// call passes C++ values straight to the generated function, with no Value conversions, no
// allocation and no lookup by name. The fastest way to call a guest many times.
//
//   Result<TypedFunc<int32_t(int32_t, int32_t)>> add =
//       instance.typed<int32_t(int32_t, int32_t)>("add");
//   Result<int32_t> sum = add->call(5, 3);  // or (*add)(5, 3)
//
// Types: int32_t, uint32_t (i32), int64_t, uint64_t (i64), float (f32), double (f64); the
// result is void, one of those, or a std::tuple of them for several results.
//
// A TypedFunc keeps its instance alive, like a Func. Thread safety: as Func (the instance's
// rule: one call at a time per instance); the handle itself may be copied anywhere.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "wasm_sandbox/externs.h"
#include "wasm_sandbox/host.h"
#include "wasm_sandbox/result.h"

namespace wasm_sandbox {

namespace detail {

// Where a direct call goes, filled in by run_direct() for the code the instance runs on now.
struct DirectCall {
  void* function;  // the export's C function: RET(void* instance, PARAMS...)
  void* instance;  // wasm2c's instance struct
};

// Calls `thunk(closure)` as a call from the host into guest function `func` (which must be a
// guest function), under every per-call control (stack limit, timeout, interrupts, fuel,
// tier-up); `target` is filled in before the thunk runs. Returns the trap that ended the
// call, or TrapKind::None. The thunk must not hold C++ objects with destructors.
TrapKind run_direct(const FuncState& func, DirectCall& target, void (*thunk)(void*), void* closure);
// run_direct() for a function whose parameters and result are integers: io[1..5] hold the
// arguments (zero-extended C values), io[0] gets the result. The fastest call there is.
TrapKind run_direct_registers(const FuncState& func, uint64_t* io);
// run_direct() for a batch: the thunk calls the function for calls *next .. count-1,
// advancing *next (in memory) as each returns. After a trap, the call at *next gets its
// error and the batch resumes after it, unless the trap ends the whole call from the host
// (a timeout, interrupt, exit or running out of fuel): then every later call gets an error
// too. Returns the errors by call index, in order.
std::vector<std::pair<size_t, Error>> run_direct_batch(const FuncState& func, DirectCall& target,
                                                       void (*thunk)(void*), void* closure,
                                                       size_t* next, size_t count);
// The error a call of `func` that ended with `trap` returns (what Func::call says).
Error direct_call_error(const FuncState& func, TrapKind trap);
// OK if `func`'s type is `want`; else InvalidArgument naming both.
Status check_signature(const Func& func, const FuncType& want);
// Whether `func` is a guest function (TypedFunc calls host functions through Func::call).
bool is_guest_function(const Func& func);
// Runs `task` on a worker thread, after the call_async tasks already posted for `func`'s
// instance (a guest function), or at once (a host function).
void post_call(const Func& func, std::function<void()> task);

// The C types wasm2c gives wasm values (host.h's CArg); void for a call with no result.
template <class T>
struct CTypeOf {
  using type = CArg<T>;
};
template <>
struct CTypeOf<void> {
  using type = char;  // unused
};
template <class T>
using CType = typename CTypeOf<T>::type;

template <class T>
T from_c(CType<T> value) {
  return static_cast<T>(value);
}

}  // namespace detail

template <class Sig>
class TypedFunc;

template <class R, class... Args>
class TypedFunc<R(Args...)> {
  static_assert((std::is_arithmetic_v<Args> && ...),
                "TypedFunc parameters are int32_t, uint32_t, int64_t, uint64_t, float or double");

 public:
  TypedFunc() = default;  // a null handle; calling it is an error

  static FuncType type() {
    FuncType type;
    type.params = {detail::WasmType<Args>::type...};
    type.results = detail::ResultsOf<R>::types();
    return type;
  }

  // Makes a typed handle of `func`. InvalidArgument if its type differs from R(Args...).
  static Result<TypedFunc> of(Func func) {
    if (func.is_null()) return Error(ErrorKind::InvalidArgument, "a null function handle");
    if (Status s = detail::check_signature(func, type()); !s) return std::move(s).error();
    TypedFunc typed;
    typed.guest_ = detail::is_guest_function(func);
    typed.func_ = std::move(func);
    return typed;
  }

  bool is_null() const { return func_.is_null(); }
  const Func& func() const { return func_; }

  Result<R> call(Args... args) const {
    if constexpr (kInRegisters) {
      if (guest_) [[likely]] {
        uint64_t io[6] = {0, static_cast<uint64_t>(static_cast<detail::CType<Args>>(args))...};
        const TrapKind trap = detail::run_direct_registers(*func_.state_, io);
        if (trap != TrapKind::None) [[unlikely]] {
          return call_error(trap);
        }
        if constexpr (std::is_void_v<R>) {
          return {};
        } else {
          return detail::from_c<R>(static_cast<CResult>(io[0]));
        }
      }
    } else if constexpr (kDirect) {
      if (guest_) [[likely]] {  // a guest function: guest_ implies a handle
        Closure closure{{}, {static_cast<detail::CType<Args>>(args)...}, {}};
        const TrapKind trap = detail::run_direct(*func_.state_, closure.target, &thunk, &closure);
        if (trap != TrapKind::None) [[unlikely]] {
          return call_error(trap);
        }
        if constexpr (std::is_void_v<R>) {
          return {};
        } else {
          return detail::from_c<R>(closure.result);
        }
      }
    }
    return call_by_values(args...);
  }
  Result<R> operator()(Args... args) const { return call(args...); }

  // Calls the function once per argument tuple, in order, and returns each call's result:
  // the cheapest way to make many calls (one entry into guest code for the whole batch, no
  // allocation per call). Errors and the safety controls as Instance::call_batch().
  std::vector<Result<R>> call_batch(std::span<const std::tuple<Args...>> arg_sets) const {
    std::vector<Result<R>> out;
    out.reserve(arg_sets.size());
    if constexpr (kDirect) {
      if (guest_ && !arg_sets.empty()) {
        std::vector<CResult> raw(arg_sets.size());
        BatchClosure closure{{}, arg_sets.data(), raw.data(), 0, arg_sets.size()};
        auto errors = detail::run_direct_batch(*func_.state_, closure.target, &batch_thunk,
                                               &closure, &closure.next, arg_sets.size());
        size_t e = 0;
        for (size_t k = 0; k < arg_sets.size(); ++k) {
          if (e < errors.size() && errors[e].first == k) {
            out.emplace_back(std::move(errors[e++].second));
          } else if constexpr (std::is_void_v<R>) {
            out.emplace_back();
          } else {
            out.emplace_back(detail::from_c<R>(raw[k]));
          }
        }
        return out;
      }
    }
    for (const auto& args : arg_sets) out.push_back(std::apply(*this, args));
    return out;
  }

  // call() on a worker thread: see Instance::call_async(), whose rules apply (calls made this
  // way on one instance run one at a time, in order; the host does not call the instance
  // while any is pending).
  std::future<Result<R>> call_async(Args... args) const {
    auto promise = std::make_shared<std::promise<Result<R>>>();
    auto future = promise->get_future();
    // The handle (and with it the instance) is let go before the future is ready.
    detail::post_call(func_, [self = std::optional<TypedFunc>(*this), promise, args...]() mutable {
      auto result = self->call(args...);
      self.reset();
      promise->set_value(std::move(result));
    });
    return future;
  }

 private:
  // The cold paths, out of line so that call() inlines into the caller's loop.
  [[gnu::noinline]] Result<R> call_error(TrapKind trap) const {
    return detail::direct_call_error(*func_.state_, trap);
  }
  // A null handle, a host function or several results: through Func::call.
  [[gnu::noinline]] Result<R> call_by_values(Args... args) const {
    if (func_.is_null()) return Error(ErrorKind::InvalidArgument, "call of a null function handle");
    const Value values[] = {detail::WasmType<Args>::to_value(args)..., Value()};
    auto results = func_.call(std::span<const Value>(values, sizeof...(Args)));
    if (!results) return std::move(results).error();
    return detail::ResultsOf<R>::from(*results, "function");
  }

  // One result or none: the generated function returns it in a register. Several results
  // come back in a struct whose layout only the generated code knows: Func::call's path.
  static constexpr bool kDirect = std::is_void_v<R> || std::is_arithmetic_v<R>;
  // Integers only, at most five of them (the instance takes the first of six argument
  // registers): the arguments go straight into registers (run_direct_registers()).
  static constexpr bool kInRegisters = (std::is_integral_v<Args> && ...) && sizeof...(Args) <= 5 &&
                                       (std::is_void_v<R> || std::is_integral_v<R>);
  using CResult = detail::CType<std::conditional_t<kDirect, R, void>>;

  struct Closure {
    detail::DirectCall target;
    std::tuple<detail::CType<Args>...> args;
    CResult result;
  };

  struct BatchClosure {
    detail::DirectCall target;
    const std::tuple<Args...>* args;
    CResult* results;
    size_t next;  // survives a trap: the run_direct_batch() contract
    size_t count;
  };

  static void batch_thunk(void* p) {
    auto* closure = static_cast<BatchClosure*>(p);
    using Fn = CResult (*)(void*, detail::CType<Args>...);
    using VoidFn = void (*)(void*, detail::CType<Args>...);
    for (; closure->next < closure->count; ++closure->next) {
      std::apply(
          [closure](Args... a) {
            if constexpr (std::is_void_v<R>) {
              reinterpret_cast<VoidFn>(closure->target.function)(
                  closure->target.instance, static_cast<detail::CType<Args>>(a)...);
            } else {
              closure->results[closure->next] = reinterpret_cast<Fn>(closure->target.function)(
                  closure->target.instance, static_cast<detail::CType<Args>>(a)...);
            }
          },
          closure->args[closure->next]);
    }
  }

  static void thunk(void* p) {
    auto* closure = static_cast<Closure*>(p);
    std::apply(
        [closure](detail::CType<Args>... a) {
          if constexpr (std::is_void_v<R>) {
            reinterpret_cast<void (*)(void*, detail::CType<Args>...)>(closure->target.function)(
                closure->target.instance, a...);
          } else {
            closure->result = reinterpret_cast<CResult (*)(void*, detail::CType<Args>...)>(
                closure->target.function)(closure->target.instance, a...);
          }
        },
        closure->args);
  }

  Func func_;
  bool guest_ = false;
};

template <class Sig>
Result<TypedFunc<Sig>> Func::typed() const {
  return TypedFunc<Sig>::of(*this);
}

}  // namespace wasm_sandbox
