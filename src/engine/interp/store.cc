#include "engine/interp/store.h"

#include <algorithm>
#include <type_traits>

namespace stratus::engine::interp {
namespace {

// The store locks the stack running on this thread holds, in the order it
// took them (a recursive lock appears once per level). Trivially
// destructible on purpose: a static destructor that drops a store at exit
// runs after this thread's thread_locals are destroyed and must still find
// its lock stack. It keeps a few locks inline and moves to the heap only
// for deeper nesting, giving the heap block back once it is shallow again,
// so a thread ends owning nothing.
class LockStack {
 public:
  void push(StoreMutex* m) {
    if (size_ == capacity()) grow();
    data()[size_++] = m;
  }
  // Removes the innermost entry of m, if any.
  void remove_last(StoreMutex* m) {
    StoreMutex** d = data();
    for (size_t i = size_; i-- > 0;) {
      if (d[i] != m) continue;
      std::copy(d + i + 1, d + size_, d + i);
      --size_;
      if (heap_ && size_ <= kInline) shrink();
      return;
    }
  }
  std::vector<StoreMutex*> take_all() {
    std::vector<StoreMutex*> all(data(), data() + size_);
    delete[] heap_;
    heap_ = nullptr;
    heap_capacity_ = 0;
    size_ = 0;
    return all;
  }

 private:
  static constexpr size_t kInline = 8;
  size_t capacity() const { return heap_ ? heap_capacity_ : kInline; }
  StoreMutex** data() { return heap_ ? heap_ : inline_; }
  void grow() {
    size_t capacity = 2 * this->capacity();
    auto* grown = new StoreMutex*[capacity];
    std::copy(data(), data() + size_, grown);
    delete[] heap_;
    heap_ = grown;
    heap_capacity_ = capacity;
  }
  void shrink() {
    std::copy(heap_, heap_ + size_, inline_);
    delete[] heap_;
    heap_ = nullptr;
    heap_capacity_ = 0;
  }

  StoreMutex* inline_[kInline]{};
  StoreMutex** heap_ = nullptr;
  size_t heap_capacity_ = 0;
  size_t size_ = 0;
};
static_assert(std::is_trivially_destructible_v<LockStack>);

thread_local LockStack t_stack_locks;

}  // namespace

void StoreMutex::held_by_this_stack(StoreMutex* m) { t_stack_locks.push(m); }

void StoreMutex::released_by_this_stack(StoreMutex* m) { t_stack_locks.remove_last(m); }

std::vector<StoreMutex*> release_stack_locks() {
  std::vector<StoreMutex*> locks = t_stack_locks.take_all();
  for (auto it = locks.rbegin(); it != locks.rend(); ++it) (*it)->mutex_.unlock();
  return locks;
}

void retake_stack_locks(std::vector<StoreMutex*> locks) {
  for (StoreMutex* m : locks) m->take();
  // The stack that runs on holds nothing of its own yet (it let go of all
  // when it was switched away from, or has just started); whatever it took
  // since goes on top.
  for (StoreMutex* m : t_stack_locks.take_all()) locks.push_back(m);
  for (StoreMutex* m : locks) t_stack_locks.push(m);
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
