// The backends' execution state that belongs to one native stack of the
// current OS thread: the aot runtime's trap frames, call depth and limit,
// innermost `try`, stack bounds, interrupt flag, entry instance and armed
// deadlines; the interpreter's host-call nesting. A fiber switch
// (component/runtime/fiber.h) saves the state of the stack it leaves and
// restores the state of the one it enters, so a trap unwinds only the
// fiber it happened on and a parked fiber's deadline does not run out while
// it is parked.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

namespace stratus::engine {

class StackState {
 public:
  // The state of a stack nothing runs on yet, with bounds [lo, hi).
  static StackState fresh(uintptr_t lo, uintptr_t hi);

  // Moves the current thread's state into this object (the thread is left
  // with a fresh state), and back.
  void save();
  void restore();

  // Opaque to everything but the backends (engine/aot/stack_state.cc,
  // engine/interp/run.cc).
  struct Aot {
    std::array<uint64_t, 12> words{};
  };
  Aot aot;
  std::vector<std::chrono::nanoseconds> deadlines;  // armed call timeouts, innermost last, as time left
  bool deadline_fired = false;
  int interp_nesting = 0;
};

namespace interp {
class StoreMutex;
// The current stack's store locks, let go (innermost first) and listed in
// the order they were taken; and taken again in that order.
std::vector<StoreMutex*> release_stack_locks();
void retake_stack_locks(std::vector<StoreMutex*> locks);
}  // namespace interp

// The locks the stack running on this thread holds that a switch to another
// stack must not carry along: the interpreter's store locks, which a call
// holds across the host calls a fiber may park in. A switch lets them go on
// the stack it leaves and takes them again when that stack runs on, so a
// parked call does not keep other threads out of the store, and each lock is
// taken and released by the same stack (as ThreadSanitizer, which sees each
// fiber as a thread of its own, requires).
class HeldLocks {
 public:
  // Lets go of the current stack's locks.
  static HeldLocks release();
  // Takes them again, on the stack that let them go.
  void retake();

 private:
  std::vector<interp::StoreMutex*> interp_;
};

namespace aot {
void save_stack_state(StackState& s);
void restore_stack_state(const StackState& s);
void fresh_stack_state(StackState& s, uintptr_t lo, uintptr_t hi);
}  // namespace aot
namespace interp {
int exchange_nesting(int nesting);
}  // namespace interp

}  // namespace stratus::engine
