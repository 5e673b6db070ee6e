// StoreCapability: creation and the host-side operations (the imported functions are in
// imports.cc).
#include "wasm_sandbox/store_capability.h"

#include "store/guest/state.h"
#include "store/names.h"

namespace wasm_sandbox::store {

const char* to_string(GuestCode code) {
  switch (code) {
#define WASM_SANDBOX_X(name, value, text) \
  case GuestCode::name:                   \
    return text;
    WASM_SANDBOX_GUEST_STORE_CODES(WASM_SANDBOX_X)
#undef WASM_SANDBOX_X
  }
  return "unknown code";
}

Result<StoreCapability> StoreCapability::create(Store store, std::string_view tree,
                                                std::string_view name_space,
                                                const GuestQuota& quota) {
  if (auto bad = guest::Space::check_name_space(name_space)) return std::move(*bad);
  constexpr std::string_view kUsageSuffix = ".usage";
  if (tree.size() + kUsageSuffix.size() > 64) {
    return Error(ErrorKind::InvalidArgument,
                 "tree name " + names::quote(tree) + ": longer than " +
                     std::to_string(64 - kUsageSuffix.size()) +
                     " bytes, so its usage tree's name would be longer than 64");
  }
  if (tree.ends_with(kUsageSuffix)) {
    // Its nuts would share a tree with another tree's usage records.
    return Error(ErrorKind::InvalidArgument, "tree name " + names::quote(tree) +
                                                 ": names ending in `" + std::string(kUsageSuffix) +
                                                 "` are for usage records");
  }
  auto data = store.tree(tree);
  if (!data.ok()) return std::move(data).error();
  auto usage = store.tree(std::string(tree) + std::string(kUsageSuffix));
  if (!usage.ok()) return std::move(usage).error();
  guest::Space space(std::move(store), std::move(*data), std::move(*usage), std::string(name_space),
                     quota);
  return StoreCapability(std::make_shared<State>(std::move(space)));
}

const std::string& StoreCapability::name_space() const { return state_->space.name_space(); }
const GuestQuota& StoreCapability::quota() const { return state_->space.quota(); }
std::string StoreCapability::last_error() const { return state_->last_error; }

Status StoreCapability::put(std::string_view key, std::string_view json_text) const {
  guest::SpaceResult outcome = state_->space.put(key, json_text);
  if (!outcome.ok()) return guest::to_error(std::move(outcome));
  return {};
}

Result<std::string> StoreCapability::get(std::string_view key) const {
  std::string text;
  guest::SpaceResult outcome = state_->space.get(key, text);
  if (!outcome.ok()) return guest::to_error(std::move(outcome));
  return text;
}

Status StoreCapability::erase(std::string_view key) const {
  guest::SpaceResult outcome = state_->space.erase(key);
  if (!outcome.ok()) return guest::to_error(std::move(outcome));
  return {};
}

Result<bool> StoreCapability::exists(std::string_view key) const {
  bool found = false;
  guest::SpaceResult outcome = state_->space.exists(key, found);
  if (!outcome.ok()) return guest::to_error(std::move(outcome));
  return found;
}

Result<std::vector<std::string>> StoreCapability::keys(std::string_view prefix,
                                                       std::string_view after, size_t limit) const {
  std::vector<std::string> out;
  guest::SpaceResult outcome = state_->space.list(prefix, after, [&](std::string_view key) {
    out.emplace_back(key);
    return limit == 0 || out.size() < limit;
  });
  if (!outcome.ok()) return guest::to_error(std::move(outcome));
  return out;
}

Result<GuestUsage> StoreCapability::usage() const {
  GuestUsage usage;
  guest::SpaceResult outcome = state_->space.usage(usage);
  if (!outcome.ok()) return guest::to_error(std::move(outcome));
  return usage;
}

Result<GuestUsage> StoreCapability::recount() const {
  GuestUsage usage;
  guest::SpaceResult outcome = state_->space.recount(usage);
  if (!outcome.ok()) return guest::to_error(std::move(outcome));
  return usage;
}

}  // namespace wasm_sandbox::store
