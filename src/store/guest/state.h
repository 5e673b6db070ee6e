// What a StoreCapability handle and its imported functions share.
#pragma once

#include <string>

#include "store/guest/space.h"
#include "wasm_sandbox/store_capability.h"

namespace wasm_sandbox::store {

struct StoreCapability::State {
  explicit State(guest::Space s) : space(std::move(s)) {}

  // Constant after create().
  guest::Space space;
  // The message of the last imported call that failed, for the guest's last_error. Written
  // only by imported calls, hence by the thread running the instance (store_capability.h).
  std::string last_error;
};

}  // namespace wasm_sandbox::store
