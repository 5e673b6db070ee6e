// Engine: runs the pipeline decode -> generate C -> compile, and wraps the result as a Module.
#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <optional>

#include "engine/compile_tcc.h"
#include "engine/decode.h"
#include "runtime/runtime.h"
#include "sandbox/optimize.h"
#include "sandbox/state.h"

namespace wasm_sandbox {

const char* to_string(Tier tier) {
  switch (tier) {
    case Tier::Baseline:
      return "baseline";
    case Tier::Optimized:
      return "optimized";
    case Tier::Auto:
      return "auto";
  }
  return "?";
}

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
  const EngineConfig& config = state_->config;
  const auto began = std::chrono::steady_clock::now();
  auto generated = detail::generate(*state_, wasm, name, began);
  if (!generated) return std::move(generated).error();

  auto state = std::make_shared<detail::ModuleState>();
  state->engine = state_;
  state->info = std::move(generated->info);
  state->stats = generated->stats;
  auto code = std::make_shared<detail::ModuleCode>();
  code->policy = config.tier;
  const auto start = std::chrono::steady_clock::now();
  if (config.tier == Tier::Optimized) {
    auto optimized = detail::compile_optimized(*state_, generated->c, name, began, nullptr);
    if (!optimized) return std::move(optimized).error();
    code->first = std::move(optimized->code);
    code->first_is_optimized = true;
  } else {
    auto baseline = engine::compile_with_tcc(generated->c, name);
    if (!baseline) return std::move(baseline).error();
    code->first = std::move(*baseline);
    if (config.tier == Tier::Auto) {
      code->wasm.assign(wasm.begin(), wasm.end());
      code->name = std::string(name);
    }
  }
  state->stats.compile_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - began);
      spent > config.limits.compile_time) {
    return Error(ErrorKind::LimitExceeded,
                 std::string(name) + ": compiling took " + std::to_string(spent.count()) +
                     " ms by the end of compiling the C, more than the limit of " +
                     std::to_string(config.limits.compile_time.count()) +
                     " ms (Limits::compile_time)");
  }
  state->stats.code_bytes = code->first->code_size();
  const ws_glue& glue = code->first->glue();
  if (glue.import_count != state->info.imports.size() ||
      glue.export_count != state->info.exports.size()) {
    return Error(ErrorKind::Internal, std::string(name) + ": generated glue does not match");
  }
  glue.init_module();
  code->best.store(code->first.get());
  state->code = std::move(code);
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
