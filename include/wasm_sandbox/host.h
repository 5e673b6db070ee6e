// Typed host functions: Func::wrap turns a C++ callable into a host function whose wasm type
// comes from the callable's signature.
//
//   Func::wrap([](int32_t a, int32_t b) { return a + b; })          // (i32, i32) -> (i32)
//   Func::wrap([](Caller& c, int32_t ptr) -> Status { ... })        // may use the caller's memory
//   Func::wrap([](double x) { return std::tuple{x, int64_t(1)}; })  // (f64) -> (f64, i64)
//
// Parameters: int32_t, uint32_t (i32), int64_t, uint64_t (i64), float, double, optionally
// preceded by Caller&. Returns: void, one of those types, a std::tuple of them, Status, or
// Result<T>; an error becomes a HostError trap in the calling guest.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "wasm_sandbox/externs.h"
#include "wasm_sandbox/result.h"
#include "wasm_sandbox/value.h"

namespace wasm_sandbox::detail {

template <class T>
struct WasmType;
template <>
struct WasmType<int32_t> {
  static constexpr ValType type = ValType::I32;
  static Value to_value(int32_t v) { return Value::i32(v); }
  static int32_t from_value(const Value& v) { return v.i32(); }
};
template <>
struct WasmType<uint32_t> {
  static constexpr ValType type = ValType::I32;
  static Value to_value(uint32_t v) { return Value::i32(static_cast<int32_t>(v)); }
  static uint32_t from_value(const Value& v) { return static_cast<uint32_t>(v.i32()); }
};
template <>
struct WasmType<int64_t> {
  static constexpr ValType type = ValType::I64;
  static Value to_value(int64_t v) { return Value::i64(v); }
  static int64_t from_value(const Value& v) { return v.i64(); }
};
template <>
struct WasmType<uint64_t> {
  static constexpr ValType type = ValType::I64;
  static Value to_value(uint64_t v) { return Value::i64(static_cast<int64_t>(v)); }
  static uint64_t from_value(const Value& v) { return static_cast<uint64_t>(v.i64()); }
};
template <>
struct WasmType<float> {
  static constexpr ValType type = ValType::F32;
  static Value to_value(float v) { return Value::f32(v); }
  static float from_value(const Value& v) { return v.f32(); }
};
template <>
struct WasmType<double> {
  static constexpr ValType type = ValType::F64;
  static Value to_value(double v) { return Value::f64(v); }
  static double from_value(const Value& v) { return v.f64(); }
};

// How an argument of C++ type T sits in the frame: i32 and i64 as unsigned integers of their
// width, floats as themselves.
template <class T>
using CArg = std::conditional_t<std::is_floating_point_v<T>, T,
                                std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>;

Error results_mismatch(std::string_view function, const std::vector<Value>& results,
                       const std::vector<ValType>& expected);

// Converts a call's results to R (void, a scalar or a tuple), checking their types.
template <class R>
struct ResultsOf {
  static std::vector<ValType> types() { return {WasmType<R>::type}; }
  static Result<R> from(const std::vector<Value>& results, std::string_view function) {
    if (results.size() != 1 || results[0].type() != WasmType<R>::type) {
      return results_mismatch(function, results, types());
    }
    return WasmType<R>::from_value(results[0]);
  }
  static void to(const R& value, std::span<Value> out) { out[0] = WasmType<R>::to_value(value); }
};
template <>
struct ResultsOf<void> {
  static std::vector<ValType> types() { return {}; }
  static Result<void> from(const std::vector<Value>& results, std::string_view function) {
    if (!results.empty()) return results_mismatch(function, results, types());
    return {};
  }
};
template <class... Ts>
struct ResultsOf<std::tuple<Ts...>> {
  static std::vector<ValType> types() { return {WasmType<Ts>::type...}; }
  static Result<std::tuple<Ts...>> from(const std::vector<Value>& results,
                                        std::string_view function) {
    const auto expected = types();
    for (size_t i = 0; i < results.size() && i < expected.size(); ++i) {
      if (results[i].type() != expected[i]) return results_mismatch(function, results, expected);
    }
    if (results.size() != expected.size()) return results_mismatch(function, results, expected);
    return unpack(results, std::index_sequence_for<Ts...>{});
  }
  static void to(const std::tuple<Ts...>& value, std::span<Value> out) {
    pack(value, out, std::index_sequence_for<Ts...>{});
  }

 private:
  template <size_t... I>
  static std::tuple<Ts...> unpack(const std::vector<Value>& results, std::index_sequence<I...>) {
    return std::tuple<Ts...>{WasmType<Ts>::from_value(results[I])...};
  }
  template <size_t... I>
  static void pack(const std::tuple<Ts...>& value, std::span<Value> out,
                   std::index_sequence<I...>) {
    ((out[I] = WasmType<Ts>::to_value(std::get<I>(value))), ...);
  }
};

// Splits what a host callable returns into a plain value and an optional error.
template <class R>
struct HostReturn {
  using Plain = R;
};
template <class T>
struct HostReturn<Result<T>> {
  using Plain = T;
};

template <class Sig>
struct CallableTraits;
template <class R, class... A>
struct CallableTraits<R(A...)> {
  using Return = R;
  using Args = std::tuple<A...>;
};
template <class R, class... A>
struct CallableTraits<R (*)(A...)> : CallableTraits<R(A...)> {};
template <class C, class R, class... A>
struct CallableTraits<R (C::*)(A...)> : CallableTraits<R(A...)> {};
template <class C, class R, class... A>
struct CallableTraits<R (C::*)(A...) const> : CallableTraits<R(A...)> {};
template <class F>
struct CallableOf : CallableTraits<decltype(&F::operator())> {};
template <class R, class... A>
struct CallableOf<R (*)(A...)> : CallableTraits<R(A...)> {};

// --- The direct path from guest code (see wrap_callable)

// The frame generated code calls a host function with: argument i, then result i, at
// io + i * kIoStride, each value at the start of its slot (glue_abi.h's ws_val; call.cc
// checks that the two agree).
inline constexpr size_t kIoStride = 24;

template <class T>
T io_get(const void* io, size_t i) {
  T value;
  std::memcpy(&value, static_cast<const char*>(io) + i * kIoStride, sizeof(T));
  return value;
}
template <class T>
void io_set(void* io, size_t i, T value) {
  std::memcpy(static_cast<char*>(io) + i * kIoStride, &value, sizeof(T));
}

template <class R>
struct IoResults {
  static void set(void* io, const R& value) { io_set(io, 0, value); }
};
template <class... Ts>
struct IoResults<std::tuple<Ts...>> {
  static void set(void* io, const std::tuple<Ts...>& value) {
    [&]<size_t... I>(std::index_sequence<I...>) { (io_set(io, I, std::get<I>(value)), ...); }
    (std::index_sequence_for<Ts...>{});
  }
};

// A host function's body for calls from guest code: reads the arguments from `io`, calls the
// callable and writes the results to `io`. Returns TrapKind::None, or HostError after
// handing the error to fail_host_call().
using DirectHostFn = TrapKind (*)(void* callable, Caller& caller, void* io);
// Keeps `error` for the library's dispatcher, which turns it into the trap (call.cc).
// Returns TrapKind::HostError.
TrapKind fail_host_call(Error error);
// Func::host() plus the direct path: `callable` is what `direct` receives.
Func host_with_direct_path(FuncType type, HostCallback callback, std::shared_ptr<void> callable,
                           DirectHostFn direct);

template <class F, class Return, bool kWantsCaller, class... P>
TrapKind call_directly(void* callable, Caller& caller, void* io) {
  using Plain = typename HostReturn<Return>::Plain;
  F& fn = *static_cast<F*>(callable);
  auto invoke = [&]<size_t... I>(std::index_sequence<I...>)->decltype(auto) {
    if constexpr (kWantsCaller) {
      return fn(caller, static_cast<P>(io_get<CArg<P>>(io, I))...);
    } else {
      return fn(static_cast<P>(io_get<CArg<P>>(io, I))...);
    }
  };
  constexpr auto kIndices = std::index_sequence_for<P...>{};
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
  try {
#endif
    if constexpr (std::is_void_v<Return>) {
      invoke(kIndices);
    } else if constexpr (std::is_same_v<Return, Status>) {
      Status status = invoke(kIndices);
      if (!status) [[unlikely]] {
        return fail_host_call(std::move(status).error());
      }
    } else if constexpr (!std::is_same_v<Return, Plain>) {  // Result<T>
      auto result = invoke(kIndices);
      if (!result) [[unlikely]] {
        return fail_host_call(std::move(result).error());
      }
      if constexpr (!std::is_void_v<Plain>) IoResults<Plain>::set(io, *result);
    } else {
      IoResults<Plain>::set(io, invoke(kIndices));
    }
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
  } catch (const std::exception& e) {
    return fail_host_call(
        Error(ErrorKind::Internal, std::string("threw an exception: ") + e.what()));
  } catch (...) {
    return fail_host_call(Error(ErrorKind::Internal, "threw an exception"));
  }
#endif
  return TrapKind::None;
}

template <class F, class Return, class... A>
Func wrap_callable(F&& callable, std::tuple<A...>*) {
  constexpr bool kWantsCaller =
      sizeof...(A) > 0 && std::is_same_v<std::tuple_element_t<0, std::tuple<A..., int>>, Caller&>;
  using Plain = typename HostReturn<Return>::Plain;
  FuncType type;
  type.results = ResultsOf<Plain>::types();
  using Fn = std::decay_t<F>;
  auto shared = std::make_shared<Fn>(std::forward<F>(callable));
  auto body = [shared](Caller& caller, std::span<const Value> args,
                       std::span<Value> results) mutable -> Status {
    Fn& fn = *shared;
    auto invoke = [&]<size_t... I>(std::index_sequence<I...>)->decltype(auto) {
      if constexpr (kWantsCaller) {
        using Params = std::tuple<A...>;
        return fn(caller, WasmType<std::decay_t<std::tuple_element_t<I + 1, Params>>>::from_value(
                              args[I])...);
      } else {
        return fn(WasmType<std::decay_t<A>>::from_value(args[I])...);
      }
    };
    constexpr size_t kParams = sizeof...(A) - (kWantsCaller ? 1 : 0);
    if constexpr (std::is_void_v<Return>) {
      invoke(std::make_index_sequence<kParams>{});
      return {};
    } else if constexpr (std::is_same_v<Return, Status>) {
      return invoke(std::make_index_sequence<kParams>{});
    } else if constexpr (!std::is_same_v<Return, Plain>) {  // Result<T>
      auto result = invoke(std::make_index_sequence<kParams>{});
      if (!result) return std::move(result).error();
      if constexpr (!std::is_void_v<Plain>) ResultsOf<Plain>::to(*result, results);
      return {};
    } else {
      ResultsOf<Plain>::to(invoke(std::make_index_sequence<kParams>{}), results);
      return {};
    }
  };
  DirectHostFn direct;
  if constexpr (kWantsCaller) {
    type.params = []<class First, class... Rest>(std::tuple<First, Rest...>*) {
      return std::vector<ValType>{WasmType<std::decay_t<Rest>>::type...};
    }(static_cast<std::tuple<A...>*>(nullptr));
    direct = []<class First, class... Rest>(std::tuple<First, Rest...>*) {
      return &call_directly<Fn, Return, true, std::decay_t<Rest>...>;
    }(static_cast<std::tuple<A...>*>(nullptr));
  } else {
    type.params = {WasmType<std::decay_t<A>>::type...};
    direct = &call_directly<Fn, Return, false, std::decay_t<A>...>;
  }
  return host_with_direct_path(std::move(type), std::move(body), std::move(shared), direct);
}

}  // namespace wasm_sandbox::detail

namespace wasm_sandbox {

template <class F>
Func Func::wrap(F&& callable) {
  using Traits = detail::CallableOf<std::decay_t<F>>;
  using Return = typename Traits::Return;
  return detail::wrap_callable<F, Return>(std::forward<F>(callable),
                                          static_cast<typename Traits::Args*>(nullptr));
}

}  // namespace wasm_sandbox
