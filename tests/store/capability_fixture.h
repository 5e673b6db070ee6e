// The fixture both capability tests share: a store in a fresh directory, and capabilities on
// its tree "guests".
#pragma once

#include <optional>
#include <string_view>

#include "store/store_test_util.h"
#include "wasm_sandbox/store_capability.h"

namespace wasm_sandbox::store::testing {

class CapabilityFixture : public StoreDir {
 protected:
  void SetUp() override {
    StoreDir::SetUp();
    store_ = open();
  }
  // No fsync per commit: these tests reopen stores, they do not crash the machine.
  Store open() { return StoreDir::open({.durability = Durability::NoSync}); }
  StoreCapability grant(std::string_view name_space, GuestQuota quota = {}) {
    auto capability = StoreCapability::create(*store_, "guests", name_space, quota);
    if (!capability.ok()) ADD_FAILURE() << capability.error().message();
    return std::move(capability).value();
  }

  std::optional<Store> store_;
};

}  // namespace wasm_sandbox::store::testing
