// Tiers: moving instances to better code between calls (live tier-up), and under Tier::Auto
// noticing that a module is hot and compiling its optimized tier in the background.
//
// Correctness never depends on the move: every tier's code works on the same instance struct
// (wasm2c's layout, the same whichever compiler built it), the first tier's code lives as
// long as the module, and function types have process-wide ids. So a funcref into the old
// code that the move does not reach (held by the host, or stored in another module's table)
// still calls the right function, only slower.
#include <algorithm>
#include <chrono>
#include <condition_variable>

#include "sandbox/optimize.h"
#include "sandbox/state.h"

namespace wasm_sandbox::detail {
namespace {

// Background compiles at once, process-wide: one per core unless configured otherwise.
class CompileSlots {
 public:
  bool acquire(unsigned limit, const std::atomic<bool>& cancel) {
    std::unique_lock lock(mutex_);
    while (busy_ >= limit) {
      if (cancel.load()) return false;
      cv_.wait_for(lock, std::chrono::milliseconds(10));
    }
    ++busy_;
    return true;
  }
  void release() {
    std::lock_guard lock(mutex_);
    --busy_;
    cv_.notify_one();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  unsigned busy_ = 0;
};

CompileSlots& compile_slots() {
  static auto* slots = new CompileSlots;
  return *slots;
}

unsigned jobs(const OptimizerConfig& config) {
  return config.jobs ? config.jobs : std::max(1u, std::thread::hardware_concurrency());
}

void remap_refs(wasm_rt_funcref_t* refs, uint32_t count, void* context) {
  const auto& remap = *static_cast<const std::unordered_map<void*, void*>*>(context);
  for (uint32_t i = 0; i < count; ++i) {
    auto it = remap.find(reinterpret_cast<void*>(refs[i].func));
    if (it != remap.end()) refs[i].func = reinterpret_cast<wasm_rt_function_ptr_t>(it->second);
  }
}

// Moves `instance` from the module's first code to its optimized code. REQUIRES: no call on
// the instance is running.
void move_to(InstanceState& instance, const engine::NativeCode& next, const ModuleCode& code) {
  const ws_glue& glue = next.glue();
  ws_slot* slots = instance.slots();
  const engine::ModuleInfo& info = instance.module->info;
  auto* remap = const_cast<std::unordered_map<void*, void*>*>(&code.remap);
  for (size_t k = 0; k < info.imports.size(); ++k) {
    const ExternType& type = info.imports[k].type;
    if (type.kind == ExternKind::Func && instance.bindings[k].func) {
      slots[k].fn = glue.host_adapters[k];  // a host function: the new code's adapter
    } else if (type.kind == ExternKind::Table && type.table.element == ValType::FuncRef) {
      auto* table = static_cast<wasm_rt_funcref_table_t*>(slots[k].ctx);
      remap_refs(table->data, table->size, remap);
    } else if (type.kind == ExternKind::Global && type.global.type == ValType::FuncRef) {
      remap_refs(static_cast<wasm_rt_funcref_t*>(slots[k].ctx), 1, remap);
    }
  }
  glue.visit_funcrefs(instance.raw, remap_refs, remap);
  instance.code = &next;
}

// Compiles the optimized tier and installs it; ends by marking the compile finished.
void compile_in_background(std::shared_ptr<EngineState> engine, ModuleCode* code) {
  std::vector<uint8_t> wasm;
  std::string name;
  {
    std::lock_guard lock(code->mutex);
    wasm = std::move(code->wasm);
    name = code->name;
  }
  Result<std::unique_ptr<engine::NativeCode>> built =
      Error(ErrorKind::Internal, name + ": the compile was cancelled");
  if (compile_slots().acquire(jobs(engine->config.optimizer), code->cancel)) {
    built = build_optimized(*engine, wasm, code->module_hash, name, &code->cancel);
    compile_slots().release();
  }
  std::lock_guard lock(code->mutex);
  if (built) {
    install_optimized(*code, std::move(*built));
  } else {
    code->optimize_error = std::move(built).error();
  }
  code->finished = true;
  code->finished_cv.notify_all();
}

}  // namespace

void install_optimized(ModuleCode& code, std::unique_ptr<engine::NativeCode> optimized) {
  const ws_glue& from = code.first->glue();
  const ws_glue& to = optimized->glue();
  if (from.instance_size != to.instance_size || from.function_count != to.function_count) {
    code.optimize_error = Error(ErrorKind::Internal, code.name +
                                                         ": the optimized code's layout "
                                                         "differs from the baseline's");
    return;
  }
  for (uint32_t i = 0; i < from.function_count; ++i) {
    code.remap.emplace(from.functions[i], to.functions[i]);
  }
  to.init_module();
  code.optimized = std::move(optimized);
  code.best.store(code.optimized.get(), std::memory_order_release);
}

ModuleCode::~ModuleCode() {
  cancel.store(true);
  std::thread background;
  {
    std::lock_guard lock(mutex);
    background = std::move(worker);
  }
  if (background.joinable()) background.join();
}

const engine::NativeCode& prepare_call(InstanceState& instance) {
  ModuleCode& code = *instance.module->code;
  const engine::NativeCode* best = code.best.load(std::memory_order_acquire);
  if (instance.code != best && instance.depth.load(std::memory_order_relaxed) == 0) {
    move_to(instance, *best, code);
  }
  if (code.policy == Tier::Auto && !code.started.load(std::memory_order_relaxed)) {
    const OptimizerConfig& config = instance.engine->config.optimizer;
    const uint64_t calls = code.calls.fetch_add(1, std::memory_order_relaxed) + 1;
    const auto nanos = std::chrono::nanoseconds(code.nanos.load(std::memory_order_relaxed));
    if ((calls >= config.hot_calls || nanos >= config.hot_time) && !code.started.exchange(true)) {
      std::lock_guard lock(code.mutex);
      code.worker = std::thread(compile_in_background, instance.module->engine, &code);
    }
  }
  return *instance.code;
}

void note_call_time(InstanceState& instance, uint64_t nanos) {
  instance.module->code->nanos.fetch_add(nanos, std::memory_order_relaxed);
}

Status optimize_now(const ModuleState& module) {
  ModuleCode& code = *module.code;
  if (code.first_is_optimized) return {};
  if (!code.started.exchange(true)) compile_in_background(module.engine, &code);
  std::unique_lock lock(code.mutex);
  code.finished_cv.wait(lock, [&] { return code.finished; });
  if (!code.optimized) {
    if (code.optimize_error) return *code.optimize_error;
    return Error(ErrorKind::Internal, module.info.name + ": no optimized code");
  }
  return {};
}

}  // namespace wasm_sandbox::detail
