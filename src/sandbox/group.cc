#include "sandbox/group.h"

#include <mutex>

namespace wasm_sandbox::detail {
namespace {

std::mutex& group_mutex() {
  static std::mutex* mutex = new std::mutex;
  return *mutex;
}

std::shared_ptr<Group> root_of(std::shared_ptr<Group> group) {
  while (group->forward) group = group->forward;
  return group;
}

}  // namespace

std::shared_ptr<Group> make_group(std::shared_ptr<void> first_member) {
  auto group = std::make_shared<Group>();
  group->members.push_back(std::move(first_member));
  return group;
}

void add_member(const std::shared_ptr<Group>& group, std::shared_ptr<void> member) {
  std::lock_guard lock(group_mutex());
  root_of(group)->members.push_back(std::move(member));
}

void merge_groups(const std::shared_ptr<Group>& a, const std::shared_ptr<Group>& b) {
  std::lock_guard lock(group_mutex());
  std::shared_ptr<Group> ra = root_of(a);
  std::shared_ptr<Group> rb = root_of(b);
  if (ra == rb) return;
  if (ra->members.size() < rb->members.size()) std::swap(ra, rb);  // move the smaller
  for (auto& member : rb->members) ra->members.push_back(std::move(member));
  rb->members.clear();
  rb->forward = std::move(ra);  // every node on a chain keeps the root alive
}

}  // namespace wasm_sandbox::detail
