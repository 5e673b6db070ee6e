// Link groups: the unit of lifetime for instances and the objects they share.
//
// A funcref stored in a table or global points into the instance that made it, so an instance
// may only be freed together with every table, global and instance it could have written
// such references into. Every instance and every host-created memory, table and global is a
// member of a group; instantiating with imports from other groups merges them. Handles
// (Instance, Memory, Table, Global, exported Func) keep their group alive; members never point
// back at a group, so there are no reference cycles, and a group is freed exactly when the last
// handle to any of its members goes.
//
// Host functions are not members: they hold no references to instances, so any number of
// instances can import one without being tied together.
//
// Thread safety: all functions may be called from any thread (one process-wide mutex; merging
// happens only at instantiation).
#pragma once

#include <memory>
#include <vector>

namespace wasm_sandbox::detail {

struct Group {
  std::shared_ptr<Group> forward;              // set once merged into another group
  std::vector<std::shared_ptr<void>> members;  // only in a root (forward == null)
};

std::shared_ptr<Group> make_group(std::shared_ptr<void> first_member);
// Adds `member` to the root of `group`.
void add_member(const std::shared_ptr<Group>& group, std::shared_ptr<void> member);
// Merges the groups of `a` and `b`; afterwards both lead to the same root.
void merge_groups(const std::shared_ptr<Group>& a, const std::shared_ptr<Group>& b);

}  // namespace wasm_sandbox::detail
