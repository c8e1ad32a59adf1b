#include "engine/interp/store.h"

#include <algorithm>

namespace stratus::engine::interp {

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
