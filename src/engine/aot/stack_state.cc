// The aot backend's part of engine::StackState: the runtime's per-thread
// block (stratus_rt_thread), the entry instance and the watchdog's armed
// deadlines of the stack that is running.
#include "engine/stack_state.h"

#include <cstring>

#include "engine/aot/runtime/rt_internal.h"
#include "engine/aot/watchdog.h"

namespace stratus::engine::aot {

void* exchange_entry_instance(void* instance);  // externals.cc

namespace {
struct Saved {
  stratus_rt_thread_t thread;
  void* entry_instance;
};
static_assert(sizeof(Saved) <= sizeof(StackState::Aot::words), "StackState::Aot is too small");

Saved& saved(StackState& s) { return *reinterpret_cast<Saved*>(s.aot.words.data()); }
const Saved& saved(const StackState& s) { return *reinterpret_cast<const Saved*>(s.aot.words.data()); }
}  // namespace

void fresh_stack_state(StackState& s, uintptr_t lo, uintptr_t hi) {
  Saved& v = saved(s);
  std::memset(&v, 0, sizeof v);
  v.thread.stack_lo = lo;
  v.thread.stack_hi = hi;
}

void save_stack_state(StackState& s) {
  stratus_rt_thread_setup();
  Saved& v = saved(s);
  stratus_rt_thread_t& t = stratus_rt_thread;
  v.thread = t;
  v.entry_instance = exchange_entry_instance(nullptr);
  s.deadlines = Watchdog::get().take_all(&s.deadline_fired);
  // The thread's stack bounds stay: the stack this thread started on is
  // described by them until a fiber's state replaces them.
  uintptr_t lo = t.stack_lo, hi = t.stack_hi;
  std::memset(&t, 0, sizeof t);
  t.stack_lo = lo;
  t.stack_hi = hi;
}

void restore_stack_state(const StackState& s) {
  const Saved& v = saved(s);
  stratus_rt_thread_t& t = stratus_rt_thread;
  t = v.thread;
  if (s.deadline_fired) t.interrupt = 1;
  exchange_entry_instance(v.entry_instance);
  Watchdog::get().put_back(s.deadlines, &t.interrupt);
}

}  // namespace stratus::engine::aot
