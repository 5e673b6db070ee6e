// The imported functions of module "wasm_sandbox_store" (StoreCapability::add_to): each
// checks every (ptr, len) the guest passes against its memory, in 64 bits, before touching a
// byte, then runs the namespace's operation (space.h). A bad buffer is the Fault code, never a
// trap or a host crash. Inputs are read (and copied where they must outlive the call) before
// any output is written, so overlapping buffers are harmless. The guest is suspended while
// its host call runs (its memory is not shared), so its bytes cannot change underneath.
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <span>

#include "store/guest/state.h"
#include "wasm_sandbox/store_capability.h"

namespace wasm_sandbox::store {
namespace {

using State = StoreCapability::State;
using guest::SpaceResult;

constexpr uint32_t kMaxResult = std::numeric_limits<int32_t>::max();

std::string hex(uint32_t value) {
  char text[11];
  std::snprintf(text, sizeof text, "0x%x", value);
  return text;
}

void store_u32(uint8_t* out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(value >> (8 * i));
}
void store_u64(uint8_t* out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(value >> (8 * i));
}

// One imported call: the caller's memory, and how a failure is reported.
class Call {
 public:
  Call(State& state, Caller& caller, const char* function)
      : state_(state), caller_(caller), function_(function) {}

  // The bytes [ptr, ptr + len) of the guest's memory, or nullopt after recording a Fault.
  std::optional<std::span<uint8_t>> buffer(uint32_t ptr, uint32_t len, const char* what) {
    if (!memory_) {
      auto memory = caller_.memory();
      if (!memory.ok()) {
        fail(GuestCode::Fault, memory.error().message());
        return std::nullopt;
      }
      memory_ = std::move(*memory);
    }
    auto view = memory_->view(ptr, len);
    if (!view.ok()) {
      fail(GuestCode::Fault, std::string(what) + " (ptr " + hex(ptr) + ", len " +
                                 std::to_string(len) + ") lies outside the guest's memory of " +
                                 std::to_string(memory_->size()) + " bytes");
      return std::nullopt;
    }
    return *view;
  }
  std::optional<std::string_view> text(uint32_t ptr, uint32_t len, const char* what) {
    auto bytes = buffer(ptr, len, what);
    if (!bytes) return std::nullopt;
    return std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  }

  // Records the failure for last_error and returns its code.
  int32_t fail(GuestCode code, std::string message) {
    state_.last_error =
        "namespace `" + state_.space.name_space() + "`: " + function_ + ": " + std::move(message);
    return static_cast<int32_t>(code);
  }
  // 0, or the failure's code after recording it. The outcome's message names the namespace.
  int32_t finish(SpaceResult outcome) {
    if (outcome.ok()) return 0;
    state_.last_error = std::string(function_) + ": " + std::move(outcome.message);
    return static_cast<int32_t>(outcome.code);
  }

 private:
  State& state_;
  Caller& caller_;
  const char* function_;
  std::optional<Memory> memory_;
};

constexpr int32_t kFault = static_cast<int32_t>(GuestCode::Fault);

}  // namespace

void StoreCapability::add_to(Imports& imports) const {
  const std::string module(kImportModule);
  std::shared_ptr<State> state = state_;

  // put(key, key_len, json, json_len) -> 0 or a code.
  imports.add(module, "put",
              Func::wrap([state](Caller& caller, uint32_t key_ptr, uint32_t key_len,
                                 uint32_t json_ptr, uint32_t json_len) -> int32_t {
                Call call(*state, caller, "put");
                auto key = call.text(key_ptr, key_len, "key");
                if (!key) return kFault;
                auto json = call.text(json_ptr, json_len, "JSON text");
                if (!json) return kFault;
                return call.finish(state->space.put(*key, *json));
              }));

  // get(key, key_len, out, out_cap) -> the JSON text's length, written to out only if it
  // fits; or a code.
  imports.add(module, "get",
              Func::wrap([state](Caller& caller, uint32_t key_ptr, uint32_t key_len,
                                 uint32_t out_ptr, uint32_t out_cap) -> int32_t {
                Call call(*state, caller, "get");
                auto key = call.text(key_ptr, key_len, "key");
                if (!key) return kFault;
                auto out = call.buffer(out_ptr, out_cap, "output buffer");
                if (!out) return kFault;
                std::string text;
                SpaceResult outcome = state->space.get(*key, text);
                if (!outcome.ok()) return call.finish(std::move(outcome));
                if (text.size() > kMaxResult) {
                  return call.fail(GuestCode::TooLarge, "document of " +
                                                            std::to_string(text.size()) +
                                                            " bytes is too large to return");
                }
                if (text.size() <= out->size()) std::memcpy(out->data(), text.data(), text.size());
                return static_cast<int32_t>(text.size());
              }));

  // delete(key, key_len) -> 0 or a code.
  imports.add(module, "delete",
              Func::wrap([state](Caller& caller, uint32_t key_ptr, uint32_t key_len) -> int32_t {
                Call call(*state, caller, "delete");
                auto key = call.text(key_ptr, key_len, "key");
                if (!key) return kFault;
                return call.finish(state->space.erase(*key));
              }));

  // exists(key, key_len) -> 1, 0 or a code.
  imports.add(module, "exists",
              Func::wrap([state](Caller& caller, uint32_t key_ptr, uint32_t key_len) -> int32_t {
                Call call(*state, caller, "exists");
                auto key = call.text(key_ptr, key_len, "key");
                if (!key) return kFault;
                bool found = false;
                SpaceResult outcome = state->space.exists(*key, found);
                if (!outcome.ok()) return call.finish(std::move(outcome));
                return found ? 1 : 0;
              }));

  // count() -> the namespace's keys, or a code.
  imports.add(module, "count", Func::wrap([state](Caller& caller) -> int64_t {
                Call call(*state, caller, "count");
                GuestUsage usage;
                SpaceResult outcome = state->space.usage(usage);
                if (!outcome.ok()) return call.finish(std::move(outcome));
                return static_cast<int64_t>(usage.keys);
              }));

  // usage(out) -> 0 or a code; out gets four u64 LE: bytes, keys, max_bytes, max_keys.
  imports.add(module, "usage", Func::wrap([state](Caller& caller, uint32_t out_ptr) -> int32_t {
                Call call(*state, caller, "usage");
                auto out = call.buffer(out_ptr, 32, "usage buffer");
                if (!out) return kFault;
                GuestUsage usage;
                SpaceResult outcome = state->space.usage(usage);
                if (!outcome.ok()) return call.finish(std::move(outcome));
                const GuestQuota& quota = state->space.quota();
                store_u64(out->data(), usage.bytes);
                store_u64(out->data() + 8, usage.keys);
                store_u64(out->data() + 16, quota.max_bytes);
                store_u64(out->data() + 24, quota.max_keys);
                return 0;
              }));

  // list(prefix, prefix_len, after, after_len, out, out_cap) -> bytes written to out: the
  // keys starting with prefix and greater than after (any, if after_len is 0), in order, each
  // as a u32 LE length and its bytes, as many whole entries as fit; 0 when there are no more.
  // TooSmall if not even the first fits.
  imports.add(module, "list",
              Func::wrap([state](Caller& caller, uint32_t prefix_ptr, uint32_t prefix_len,
                                 uint32_t after_ptr, uint32_t after_len, uint32_t out_ptr,
                                 uint32_t out_cap) -> int32_t {
                Call call(*state, caller, "list");
                auto prefix = call.text(prefix_ptr, prefix_len, "prefix");
                if (!prefix) return kFault;
                auto after = call.text(after_ptr, after_len, "`after` key");
                if (!after) return kFault;
                auto out = call.buffer(out_ptr, out_cap, "output buffer");
                if (!out) return kFault;
                const size_t room = std::min<size_t>(out->size(), kMaxResult);
                size_t used = 0;
                bool too_small = false;
                SpaceResult outcome = state->space.list(*prefix, *after, [&](std::string_view key) {
                  if (room - used < 4 + key.size()) {
                    too_small = used == 0;
                    return false;
                  }
                  store_u32(out->data() + used, static_cast<uint32_t>(key.size()));
                  std::memcpy(out->data() + used + 4, key.data(), key.size());
                  used += 4 + key.size();
                  return true;
                });
                if (!outcome.ok()) return call.finish(std::move(outcome));
                if (too_small) {
                  return call.fail(GuestCode::TooSmall,
                                   "the next key and its length take more than the " +
                                       std::to_string(room) + " bytes of the output buffer");
                }
                return static_cast<int32_t>(used);
              }));

  // last_error(out, out_cap) -> the length of the last failure's message; its first out_cap
  // bytes are written to out. Does not itself change the message.
  imports.add(module, "last_error",
              Func::wrap([state](Caller& caller, uint32_t out_ptr, uint32_t out_cap) -> int32_t {
                auto memory = caller.memory();
                if (!memory.ok()) return kFault;
                auto out = memory->view(out_ptr, out_cap);
                if (!out.ok()) return kFault;
                const std::string& message = state->last_error;
                std::memcpy(out->data(), message.data(), std::min(message.size(), out->size()));
                return static_cast<int32_t>(std::min<size_t>(message.size(), kMaxResult));
              }));
}

}  // namespace wasm_sandbox::store
