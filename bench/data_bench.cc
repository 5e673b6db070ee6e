// What GuestData costs: call_string() on a short string next to a plain typed call of a guest
// function taking the same (ptr, len), and copies in and out by size. text.wasm, optimized tier.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "wasm_sandbox/wasm_sandbox.h"

namespace {

using namespace wasm_sandbox;

const Instance& text_instance() {
  static const Instance instance = [] {
    EngineConfig config;
    config.tier = Tier::Optimized;
    static const Engine engine(config);
    auto module = engine.load_file(std::string(GUEST_DIR) + "/text.wasm");
    if (!module) std::abort();
    return std::move(module->instantiate()).value();
  }();
  return instance;
}

constexpr std::string_view kShort = "hello, world";

// The floor: count_words on input already in guest memory, one typed call.
void BM_DataTypedCall(benchmark::State& state) {
  auto data = GuestData::of(text_instance());
  auto count_words = text_instance().typed<int32_t(uint32_t, uint32_t)>("count_words");
  if (!data || !count_words) std::abort();
  const GuestSlice in = *data->copy_in(kShort);
  for (auto _ : state) benchmark::DoNotOptimize(*count_words->call(in.ptr, in.len));
  if (!data->free(in)) std::abort();
}
BENCHMARK(BM_DataTypedCall);

// copy_in() and free(): two calls into the guest (ws_alloc, ws_free) and a memcpy.
void BM_DataCopyInFree(benchmark::State& state) {
  auto data = GuestData::of(text_instance());
  if (!data) std::abort();
  for (auto _ : state) {
    auto in = data->copy_in(kShort);
    if (!data->free(*in)) std::abort();
  }
}
BENCHMARK(BM_DataCopyInFree);

// The one-liner on a short string: ws_alloc, upper, ws_free twice, a std::string out.
void BM_DataCallString(benchmark::State& state) {
  auto data = GuestData::of(text_instance());
  if (!data) std::abort();
  for (auto _ : state) benchmark::DoNotOptimize(*data->call_string("upper", kShort));
}
BENCHMARK(BM_DataCallString);

// call_string() by size: the bytes counter is input bytes per second (each is copied in, read
// and written by the guest, and copied out).
void BM_DataCallStringSize(benchmark::State& state) {
  auto data = GuestData::of(text_instance());
  if (!data) std::abort();
  const std::string input(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(*data->call_string("upper", input));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_DataCallStringSize)->Arg(64)->Arg(4 << 10)->Arg(1 << 20);

// The zero-copy path: view() of a result and its free(), without a copy out.
void BM_DataViewResult(benchmark::State& state) {
  auto data = GuestData::of(text_instance());
  auto upper = text_instance().typed<uint64_t(uint32_t, uint32_t)>("upper");
  if (!data || !upper) std::abort();
  const GuestSlice in = *data->copy_in(kShort);
  for (auto _ : state) {
    const GuestSlice out = GuestSlice::unpack(*upper->call(in.ptr, in.len));
    benchmark::DoNotOptimize(data->string_view(out)->front());
    if (!data->free(out)) std::abort();
  }
  if (!data->free(in)) std::abort();
}
BENCHMARK(BM_DataViewResult);

}  // namespace
