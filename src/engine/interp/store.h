// The state every object of one interp Engine shares: the wabt Store and the
// lock that guards it, plus the per-instance control block (limits, interrupt).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include <wabt/interp/interp.h>

#include "engine/engine.h"
#include "engine/stack_state.h"

namespace stratus::engine::interp {

namespace wi = wabt::interp;

class InstanceCore;

// A recursive mutex that knows whether another thread waits for it, so a long
// call steps aside only when someone needs the store. It is held by a stack,
// not a thread: each lock is recorded for the stack that took it, and a
// fiber switch lets go of the leaving stack's locks and takes them again
// when that stack runs on (engine::HeldLocks), so a parked call does not
// keep other threads out of the store while its thread does other work.
class StoreMutex {
 public:
  void lock() {
    take();
    held_by_this_stack(this);
  }
  bool try_lock() {
    if (!mutex_.try_lock()) return false;
    held_by_this_stack(this);
    return true;
  }
  void unlock() {
    released_by_this_stack(this);
    mutex_.unlock();
  }
  bool contended() const { return waiting_.load(std::memory_order_relaxed) > 0; }

  friend std::vector<StoreMutex*> release_stack_locks();
  friend void retake_stack_locks(std::vector<StoreMutex*> locks);

 private:
  void take() {
    waiting_.fetch_add(1, std::memory_order_relaxed);
    mutex_.lock();
    waiting_.fetch_sub(1, std::memory_order_relaxed);
  }
  static void held_by_this_stack(StoreMutex* m);
  static void released_by_this_stack(StoreMutex* m);

  std::recursive_mutex mutex_;
  std::atomic<int> waiting_{0};
};

// wabt's Store (its object and root lists, its set of threads) is not
// thread-safe, and every RefPtr touches the root list, so each use of a wabt
// object holds `mutex`. It is recursive because host functions run under it
// and may call back into wasm on the same thread.
class StoreState : public std::enable_shared_from_this<StoreState> {
 public:
  explicit StoreState(const wabt::Features& features) : store(features) {}
  StoreState(const StoreState&) = delete;
  StoreState& operator=(const StoreState&) = delete;

  StoreMutex mutex;
  wi::Store store;

  // A wabt Trap carries only a message; a host callback's Trap (with its kind
  // and exit code) is kept here, keyed by the wabt Trap it became.
  void remember_host_trap(const wi::Object* wabt_trap, Trap trap) { host_traps_[wabt_trap] = std::move(trap); }
  std::optional<Trap> take_host_trap(const wi::Object* wabt_trap);

  // Control blocks by wabt instance, so a call entering through a funcref or
  // crossing instances finds the limits and interrupt flag that apply.
  void add_core(const wi::Instance* instance, const std::shared_ptr<InstanceCore>& core) { cores_[instance] = core; }
  void remove_core(const wi::Instance* instance) { cores_.erase(instance); }
  std::shared_ptr<InstanceCore> find_core(const wi::Instance* instance) const;

  // Frees unreachable wabt objects when their number has doubled since the
  // last collection. Only between calls: values being converted are not
  // rooted, and wabt marks only the stacks of running threads.
  void maybe_collect();

 private:
  std::unordered_map<const wi::Object*, Trap> host_traps_;
  std::unordered_map<const wi::Instance*, std::weak_ptr<InstanceCore>> cores_;
  size_t collect_at_ = 16384;
};

using StorePtr = std::shared_ptr<StoreState>;
using StoreLock = std::unique_lock<StoreMutex>;

// Keeps a wabt object alive (a RefPtr is a GC root) and releases it under the
// store's lock, whichever thread drops the last reference.
template <class T>
class Rooted {
 public:
  Rooted(StorePtr store, wi::RefPtr<T> ptr) : store_(std::move(store)), ptr_(std::move(ptr)) {}
  ~Rooted() {
    StoreLock lock(store_->mutex);
    ptr_.reset();
  }
  Rooted(const Rooted&) = delete;
  Rooted& operator=(const Rooted&) = delete;

  T* get() const { return ptr_.get(); }
  T* operator->() const { return ptr_.get(); }
  wi::Ref ref() const { return ptr_.ref(); }
  const wi::RefPtr<T>& ptr() const { return ptr_; }
  const StorePtr& store() const { return store_; }

 private:
  StorePtr store_;
  wi::RefPtr<T> ptr_;
};

// What one instance's calls are bound by. Shared by the Instance and every
// Func taken from it, so limits and interrupt() hold for calls made through
// exports that outlive the Instance object.
class InstanceCore {
 public:
  InstanceCore(StorePtr store, wi::Instance::Ptr instance, InstanceLimits limits)
      : instance(std::move(store), std::move(instance)), limits(limits) {}
  ~InstanceCore() {
    StoreLock lock(instance.store()->mutex);
    instance.store()->remove_core(instance.get());
  }

  Rooted<wi::Instance> instance;
  const InstanceLimits limits;
  std::atomic<bool> interrupted{false};
  std::weak_ptr<Instance> owner;  // for Caller::instance()
};

}  // namespace stratus::engine::interp
