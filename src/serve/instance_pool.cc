// InstancePool (instance_pool.h): a mutex-guarded stack of idle instances.
#include "serve/instance_pool.h"

namespace wasm_sandbox::serve {

InstancePool::InstancePool(Module module, Limits limits, size_t max_idle)
    : module_(std::move(module)), limits_(limits), max_idle_(max_idle) {
  for (const ExportDesc& desc : module_.exports()) {
    if (desc.type.kind == ExternKind::Func) function_types_.emplace(desc.name, desc.type.func);
  }
}

const FuncType* InstancePool::function_type(std::string_view name) const {
  auto it = function_types_.find(name);
  return it == function_types_.end() ? nullptr : &it->second;
}

Result<PooledInstance> InstancePool::make() const {
  auto instance = module_.instantiate({}, limits_);
  if (!instance) return std::move(instance).error();
  PooledInstance pooled{std::move(*instance), {}};
  for (const ExportDesc& desc : module_.exports()) {
    if (desc.type.kind != ExternKind::Func) continue;
    auto func = pooled.instance.func(desc.name);
    if (!func) return std::move(func).error();
    pooled.functions.emplace(desc.name, std::move(*func));
  }
  return pooled;
}

Result<PooledInstance> InstancePool::take() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      PooledInstance out = std::move(idle_.back());
      idle_.pop_back();
      return out;
    }
  }
  return make();
}

void InstancePool::give_back(PooledInstance instance) {
  // fuel_consumed() is 0 unless the engine meters fuel.
  if (instance.instance.fuel_consumed() > 0) (void)instance.instance.set_fuel(limits_.fuel);
  std::lock_guard lock(mutex_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(instance));
}

size_t InstancePool::idle() const {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

}  // namespace wasm_sandbox::serve
