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
#include <map>

#include "sandbox/optimize.h"
#include "sandbox/state.h"

namespace wasm_sandbox::detail {
namespace {

using Clock = std::chrono::steady_clock;

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
// the instance is running. A table it imports may be in use by another instance's call on
// another thread meanwhile: each entry's code pointer is replaced by one aligned 8-byte
// store, and either value calls the same function, so that call sees one or the other.
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
    const auto began = Clock::now();
    built = build_optimized(*engine, wasm, code->module_hash, name, &code->cancel);
    compile_slots().release();
    if (built) engine->metrics.record_compile(true, nanos_between(began, Clock::now()));
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

// Starts the background compile, once.
void start_compile(ModuleCode& code, std::shared_ptr<EngineState> engine) {
  if (code.started.exchange(true)) return;
  std::lock_guard lock(code.mutex);
  code.worker = std::thread(compile_in_background, std::move(engine), &code);
}

// Notices a module that is hot by time while its calls are still running (a WASI program's
// single long _start): one thread for the process, woken when a module's time budget
// (OptimizerConfig::hot_time) would run out if its calls went on.
class HotTimer {
 public:
  void arm(std::weak_ptr<ModuleCode> code, Clock::time_point when) {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
    queue_.emplace(when, std::move(code));
    cv_.notify_one();
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (queue_.empty()) {
        cv_.wait(lock);
        continue;
      }
      const auto when = queue_.begin()->first;
      if (Clock::now() < when) {
        cv_.wait_until(lock, when);
        continue;
      }
      std::shared_ptr<ModuleCode> code = queue_.begin()->second.lock();
      queue_.erase(queue_.begin());
      if (!code) continue;
      lock.unlock();
      if (auto engine = code->engine.lock();
          engine && (code->running.load() > 0 || std::chrono::nanoseconds(code->nanos.load()) >=
                                                     engine->config.optimizer.hot_time)) {
        start_compile(*code, engine);
      } else {
        code->timer_armed.store(false);  // the next timed call arms it again
      }
      code.reset();  // may destroy the module's code: outside the lock
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::multimap<Clock::time_point, std::weak_ptr<ModuleCode>> queue_;
  std::thread thread_;  // never joined: lives as long as the process
};

HotTimer& hot_timer() {
  static auto* timer = new HotTimer;
  return *timer;
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
    if (calls >= config.hot_calls || nanos >= config.hot_time) {
      start_compile(code, instance.module->engine);
    }
  }
  return *instance.code;
}

bool begin_timed_call(InstanceState& instance) {
  ModuleCode& code = *instance.module->code;
  if (code.policy != Tier::Auto || code.started.load(std::memory_order_relaxed)) return false;
  code.running.fetch_add(1, std::memory_order_relaxed);
  if (!code.timer_armed.exchange(true)) {
    const auto budget = instance.engine->config.optimizer.hot_time -
                        std::chrono::nanoseconds(code.nanos.load(std::memory_order_relaxed));
    hot_timer().arm(instance.module->code,
                    Clock::now() + std::max<Clock::duration>(budget, Clock::duration::zero()));
  }
  return true;
}

void end_timed_call(InstanceState& instance, uint64_t nanos) {
  ModuleCode& code = *instance.module->code;
  code.nanos.fetch_add(nanos, std::memory_order_relaxed);
  code.running.fetch_sub(1, std::memory_order_relaxed);
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
