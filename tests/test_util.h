// Helpers shared by the tests.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "wasm_sandbox/wasm_sandbox.h"

namespace wasm_sandbox::testing {

inline std::string guest(const std::string& name) { return std::string(GUEST_DIR) + "/" + name; }

// Loads WAT text or fails the test.
inline Module load_wat(const Engine& engine, std::string_view text) {
  auto module = engine.load_wat(text, "test.wat");
  EXPECT_TRUE(module.ok()) << module.error().message();
  return std::move(module).value();
}

}  // namespace wasm_sandbox::testing
