#include "engine/interp/store.h"

#include <algorithm>

namespace stratus::engine::interp {
namespace {

// The store locks the stack running on this thread holds, in the order it
// took them (a recursive lock appears once per level).
thread_local std::vector<StoreMutex*> t_stack_locks;

}  // namespace

void StoreMutex::held_by_this_stack(StoreMutex* m) { t_stack_locks.push_back(m); }

void StoreMutex::released_by_this_stack(StoreMutex* m) {
  auto it = std::find(t_stack_locks.rbegin(), t_stack_locks.rend(), m);
  if (it != t_stack_locks.rend()) t_stack_locks.erase(std::next(it).base());
}

std::vector<StoreMutex*> release_stack_locks() {
  std::vector<StoreMutex*> locks = std::move(t_stack_locks);
  t_stack_locks.clear();
  for (auto it = locks.rbegin(); it != locks.rend(); ++it) (*it)->mutex_.unlock();
  return locks;
}

void retake_stack_locks(std::vector<StoreMutex*> locks) {
  for (StoreMutex* m : locks) m->take();
  // The stack that runs on holds nothing of its own yet (it let go of all
  // when it was switched away from, or has just started).
  locks.insert(locks.end(), t_stack_locks.begin(), t_stack_locks.end());
  t_stack_locks = std::move(locks);
}

std::optional<Trap> StoreState::take_host_trap(const wi::Object* wabt_trap) {
  auto it = host_traps_.find(wabt_trap);
  if (it == host_traps_.end()) return std::nullopt;
  Trap trap = std::move(it->second);
  host_traps_.erase(it);
  return trap;
}

std::shared_ptr<InstanceCore> StoreState::find_core(const wi::Instance* instance) const {
  if (!instance) return nullptr;
  auto it = cores_.find(instance);
  return it == cores_.end() ? nullptr : it->second.lock();
}

void StoreState::maybe_collect() {
  if (!store.threads().empty() || store.object_count() < collect_at_) return;
  store.Collect();
  // Traps that were never reported (none expected) must not outlive their objects.
  host_traps_.clear();
  collect_at_ = std::max<size_t>(16384, 2 * store.object_count());
}

}  // namespace stratus::engine::interp
