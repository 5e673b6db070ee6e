// Engine: runs the pipeline decode -> generate C -> compile, and wraps the result as a Module.
#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <optional>

#include "engine/compile_tcc.h"
#include "engine/decode.h"
#include "engine/generate_c.h"
#include "engine/instrument.h"
#include "engine/shape.h"
#include "runtime/runtime.h"
#include "sandbox/state.h"
#include "wabt/ir.h"

namespace wasm_sandbox {
namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

Engine::Engine() : Engine(EngineConfig{}) {}

Engine::Engine(EngineConfig config) : state_(std::make_shared<detail::EngineState>(config)) {
  runtime::ensure_initialized();
}

const EngineConfig& Engine::config() const { return state_->config; }

uint32_t Engine::live_instances() const {
  return state_->instances.load(std::memory_order_relaxed);
}

uint64_t Engine::memory_in_use() const { return state_->memory.used(); }

void Engine::interrupt_all() const {
  std::lock_guard lock(state_->live_mutex);
  for (detail::InstanceState* instance : state_->live) {
    if (instance->depth.load(std::memory_order_relaxed) != 0) {
      std::atomic_ref<uint32_t>(*instance->flag).fetch_or(runtime::kFlagInterruptAll);
    }
  }
}

Result<Module> Engine::load(std::span<const uint8_t> wasm, std::string_view name) const {
  const Limits& limits = state_->config.limits;
  const auto began = std::chrono::steady_clock::now();
  // The stages cannot be stopped midway; between them, the time limit is checked.
  auto out_of_time = [&](const char* after) -> std::optional<Error> {
    const double spent = ms_since(began);
    if (spent <= static_cast<double>(limits.compile_time.count())) return std::nullopt;
    return Error(ErrorKind::LimitExceeded,
                 std::string(name) + ": compiling took " + std::to_string(int64_t(spent)) +
                     " ms by the end of " + after + ", more than the limit of " +
                     std::to_string(limits.compile_time.count()) + " ms (Limits::compile_time)");
  };
  auto state = std::make_shared<detail::ModuleState>();
  state->engine = state_;
  auto start = std::chrono::steady_clock::now();
  auto decoded = engine::decode(wasm, name, limits);
  if (!decoded) return std::move(decoded).error();
  state->stats.decode_ms = ms_since(start);
  if (auto late = out_of_time("decoding")) return std::move(*late);

  start = std::chrono::steady_clock::now();
  state->info = std::move(decoded->info);
  const engine::InstrumentedExports extra = engine::instrument(
      *decoded->ir, {.fuel = state_->config.fuel, .interrupts = state_->config.interruptible});
  auto source = engine::generate_c(*decoded->ir, state->info, extra, limits.generated_c_bytes);
  if (!source) return std::move(source).error();
  engine::release_ir(std::move(decoded->ir));
  state->stats.generate_ms = ms_since(start);
  state->stats.c_bytes = source->size();
  if (auto late = out_of_time("the translation to C")) return std::move(*late);

  start = std::chrono::steady_clock::now();
  auto code = engine::compile_with_tcc(*source, name);
  if (!code) return std::move(code).error();
  state->stats.compile_ms = ms_since(start);
  if (auto late = out_of_time("compiling the C")) return std::move(*late);
  state->code = std::move(*code);
  state->stats.code_bytes = state->code->code_size();

  const ws_glue& glue = state->glue();
  if (glue.import_count != state->info.imports.size() ||
      glue.export_count != state->info.exports.size()) {
    return Error(ErrorKind::Internal, std::string(name) + ": generated glue does not match");
  }
  glue.init_module();
  for (size_t i = 0; i < state->info.exports.size(); ++i) {
    state->export_index.emplace(state->info.exports[i].name, i);
  }
  return Module(std::move(state));
}

Result<Module> Engine::load_wat(std::string_view text, std::string_view name) const {
  if (text.size() > state_->config.limits.module_bytes) {
    return Error(ErrorKind::LimitExceeded, std::string(name) + ": module text of " +
                                               std::to_string(text.size()) +
                                               " bytes, more than the limit of " +
                                               std::to_string(state_->config.limits.module_bytes) +
                                               " (Limits::module_bytes)");
  }
  auto wasm = engine::assemble_wat(text, name);
  if (!wasm) return std::move(wasm).error();
  return load(*wasm, name);
}

Result<Module> Engine::load_file(const std::filesystem::path& path) const {
  const std::string name = path.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Error(
        std::filesystem::exists(path, ec) ? ErrorKind::Io : ErrorKind::NotFound,
        name + (std::filesystem::exists(path, ec) ? ": not a regular file" : ": no such file"));
  }
  if (const auto size = std::filesystem::file_size(path, ec);
      !ec && size > state_->config.limits.module_bytes) {
    return Error(ErrorKind::LimitExceeded, name + ": file of " + std::to_string(size) +
                                               " bytes, more than the limit of " +
                                               std::to_string(state_->config.limits.module_bytes) +
                                               " (Limits::module_bytes)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorKind::Io, name + ": cannot open for reading");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  if (in.bad()) return Error(ErrorKind::Io, name + ": read error");
  if (bytes.empty()) return Error(ErrorKind::InvalidModule, name + ": file is empty");
  // .wat is text and .wasm binary; anything else is binary if it starts with the magic.
  const auto ext = path.extension();
  const bool text = ext == ".wat" || (ext != ".wasm" && !engine::looks_like_binary(bytes));
  if (!text) return load(bytes, name);
  return load_wat(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                  name);
}

}  // namespace wasm_sandbox
