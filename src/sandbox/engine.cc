// Engine: runs the pipeline decode -> generate C -> compile, and wraps the result as a Module.
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>

#include "engine/artifact.h"
#include "engine/compile_tcc.h"
#include "engine/decode.h"
#include "engine/hash.h"
#include "runtime/runtime.h"
#include "sandbox/optimize.h"
#include "sandbox/state.h"
#include "sandbox/watchdog.h"

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

EngineMetrics Engine::metrics() const {
  EngineMetrics out = state_->metrics.snapshot();
  {
    std::lock_guard lock(state_->live_mutex);
    out.calls = state_->retired_calls;
    out.fuel_consumed = state_->retired_fuel;
    for (const detail::InstanceState* instance : state_->live) {
      out.calls += instance->counters.calls.load(std::memory_order_relaxed);
      out.fuel_consumed += instance->counters.fuel.load(std::memory_order_relaxed);
    }
  }
  out.memory_in_use = memory_in_use();
  out.live_instances = live_instances();
  return out;
}

void Engine::interrupt_all() const {
  // Calls that start from here on see the new epoch, and are left alone, even while the
  // loop below is still on its way to their instance.
  const uint64_t epoch = state_->interrupt_epoch.fetch_add(1) + 1;
  // Under live_mutex: an instance in the list is alive (its destructor leaves the list first).
  std::lock_guard lock(state_->live_mutex);
  for (detail::InstanceState* instance : state_->live) {
    if (instance->stop.flag && instance->stop.request_all(epoch)) {
      detail::retry_stop(instance->stop);
    }
  }
}

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The state of a Module over `code`, named `name` (the code may have been loaded under
// another name).
std::shared_ptr<detail::ModuleState> make_module(std::shared_ptr<detail::EngineState> engine,
                                                 std::shared_ptr<detail::ModuleCode> code,
                                                 std::string_view name, const CompileStats& stats) {
  auto state = std::make_shared<detail::ModuleState>();
  state->engine = std::move(engine);
  state->info = code->info;
  state->info.name = std::string(name);
  state->stats = stats;
  state->stats.code_bytes = code->first->code_size();
  state->code = std::move(code);
  for (size_t i = 0; i < state->info.exports.size(); ++i) {
    state->export_index.emplace(state->info.exports[i].name, i);
    if (state->info.exports[i].type.kind == ExternKind::Memory) state->memory_exports.push_back(i);
  }
  return state;
}

// An artifact starts with "\0wsa" (engine/artifact.h), a module with "\0asm".
bool looks_like_artifact(std::span<const uint8_t> bytes) {
  return bytes.size() >= 4 && std::memcmp(bytes.data(), "\0wsa", 4) == 0;
}

}  // namespace

// The code a module starts with: from the in-process cache, from the disk cache, or built
// now by the tier the engine asks for.
Result<Module> Engine::load(std::span<const uint8_t> wasm, std::string_view name) const {
  const EngineConfig& config = state_->config;
  const auto began = Clock::now();
  if (wasm.size() > config.limits.module_bytes) {
    return Error(ErrorKind::LimitExceeded,
                 std::string(name) + ": module of " + std::to_string(wasm.size()) +
                     " bytes, more than the limit of " +
                     std::to_string(config.limits.module_bytes) + " (Limits::module_bytes)");
  }
  const engine::Digest hash = engine::blake2b(wasm);
  const std::string hex = engine::to_hex(hash);
  CompileStats stats;
  if (config.cache.memory) {
    std::lock_guard lock(state_->loaded_mutex);
    if (auto it = state_->loaded.find(hex); it != state_->loaded.end()) {
      if (auto code = it->second.lock()) {
        stats.cache = CacheHit::Memory;
        state_->metrics.count_load(CacheHit::Memory);
        return Module(make_module(state_, std::move(code), name, stats));
      }
    }
  }
  auto code = std::make_shared<detail::ModuleCode>(config.pool.idle_memories);
  code->policy = config.tier;
  code->engine = state_;
  code->module_hash = hash;
  code->name = std::string(name);

  // The optimized code from an earlier compile, in this process or another.
  std::optional<engine::CCompiler> compiler;
  std::string key;
  const engine::DiskCache* cache = nullptr;
  std::string cache_error;
  if (config.tier != Tier::Baseline && config.cache.disk) {
    if (auto found = detail::find_compiler(*state_, name)) {
      compiler = std::move(*found);
      key = detail::artifact_key(*state_, hash, *compiler);
    }
    cache = detail::disk_cache(*state_);  // after this call, disk_error is safe to read
    if (!cache && state_->disk_error) cache_error = state_->disk_error->message();
  }
  if (cache && compiler) {
    const auto start = Clock::now();
    if (auto bytes = cache->get(key)) {
      const std::string path = (cache->directory() / (key + ".wsa")).string();
      auto artifact = engine::deserialize(*bytes, path);
      if (!artifact) {
        cache->remove(key);  // corrupt: never loaded, and replaced by the next compile
      } else if (auto loaded = detail::load_artifact_code(*state_, *artifact, name)) {
        code->first = std::move(*loaded);
        code->first_is_optimized = true;
        code->info = std::move(artifact->info);
        stats.cache = CacheHit::Disk;
        stats.compile_ms = ms_since(start);
      }
    }
  }

  if (!code->first) {
    auto generated = detail::generate(*state_, wasm, name, began);
    if (!generated) return std::move(generated).error();
    stats = generated->stats;
    stats.cache_error = cache_error;
    const auto start = Clock::now();
    if (config.tier == Tier::Optimized) {
      if (!compiler) {
        auto found = detail::find_compiler(*state_, name);
        if (!found) return std::move(found).error();
        compiler = std::move(*found);
      }
      auto object =
          detail::compile_object(*state_, *compiler, *generated, hash, name, began, nullptr);
      if (!object) return std::move(object).error();
      stats.translation_units = object->translation_units;
      if (cache) (void)cache->put(key, engine::serialize(object->artifact));
      auto loaded = detail::load_artifact_code(*state_, object->artifact, name);
      if (!loaded) return std::move(loaded).error();
      code->first = std::move(*loaded);
      code->first_is_optimized = true;
    } else {
      auto baseline = engine::compile_with_tcc(generated->c, name);
      if (!baseline) return std::move(baseline).error();
      code->first = std::move(*baseline);
      if (config.tier == Tier::Auto) code->wasm.assign(wasm.begin(), wasm.end());
    }
    stats.compile_ms = ms_since(start);
    code->info = std::move(generated->info);
    if (const auto spent =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began);
        spent > config.limits.compile_time) {
      return Error(ErrorKind::LimitExceeded,
                   std::string(name) + ": compiling took " + std::to_string(spent.count()) +
                       " ms by the end of compiling the C, more than the limit of " +
                       std::to_string(config.limits.compile_time.count()) +
                       " ms (Limits::compile_time)");
    }
    const ws_glue& glue = code->first->glue();
    if (glue.import_count != code->info.imports.size() ||
        glue.export_count != code->info.exports.size()) {
      return Error(ErrorKind::Internal, std::string(name) + ": generated glue does not match");
    }
  }
  state_->metrics.count_load(stats.cache);
  if (stats.cache == CacheHit::None) {
    state_->metrics.record_compile(code->first_is_optimized,
                                   detail::nanos_between(began, Clock::now()));
  }
  // Optimized code from the start leaves Tier::Auto nothing to do: no timing, no compile.
  if (code->first_is_optimized) code->policy = Tier::Optimized;
  code->first->glue().init_module();
  code->best.store(code->first.get());
  if (config.cache.memory) {
    std::lock_guard lock(state_->loaded_mutex);
    state_->loaded[hex] = code;
    // Entries of modules no longer alive go once the map has doubled since the last sweep.
    if (state_->loaded.size() >= state_->loaded_sweep_at) {
      std::erase_if(state_->loaded, [](const auto& entry) { return entry.second.expired(); });
      state_->loaded_sweep_at = std::max<size_t>(64, 2 * state_->loaded.size());
    }
  }
  return Module(make_module(state_, std::move(code), name, stats));
}

Result<std::vector<uint8_t>> Engine::compile_artifact(std::span<const uint8_t> wasm,
                                                      std::string_view name) const {
  const auto began = Clock::now();
  auto compiler = detail::find_compiler(*state_, name);
  if (!compiler) return std::move(compiler).error();
  auto generated = detail::generate(*state_, wasm, name, began);
  if (!generated) return std::move(generated).error();
  auto object = detail::compile_object(*state_, *compiler, *generated, engine::blake2b(wasm), name,
                                       began, nullptr);
  if (!object) return std::move(object).error();
  return engine::serialize(object->artifact);
}

Result<Module> Engine::load_artifact(std::span<const uint8_t> bytes, std::string_view name) const {
  const auto began = Clock::now();
  auto artifact = engine::deserialize(bytes, name);
  if (!artifact) return std::move(artifact).error();
  auto loaded = detail::load_artifact_code(*state_, *artifact, name);
  if (!loaded) return std::move(loaded).error();
  auto code = std::make_shared<detail::ModuleCode>(state_->config.pool.idle_memories);
  code->policy = Tier::Optimized;
  code->first = std::move(*loaded);
  code->first_is_optimized = true;
  code->module_hash = artifact->module_hash;
  code->name = std::string(name);
  code->info = std::move(artifact->info);
  code->first->glue().init_module();
  code->best.store(code->first.get());
  CompileStats stats;
  stats.compile_ms = ms_since(began);
  return Module(make_module(state_, std::move(code), name, stats));
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
  if (looks_like_artifact(bytes)) return load_artifact(bytes, name);
  // .wat is text and .wasm binary; anything else is binary if it starts with the magic.
  const auto ext = path.extension();
  const bool text = ext == ".wat" || (ext != ".wasm" && !engine::looks_like_binary(bytes));
  if (!text) return load(bytes, name);
  return load_wat(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                  name);
}

}  // namespace wasm_sandbox
